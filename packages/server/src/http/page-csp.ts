/**
 * The Content-Security-Policy of Switchboard's own pages (the demo page, the admin dashboard): scripts
 * from this origin and the page's own inline blocks, pinned by their hashes, and nothing else. Even if a
 * message ever reached the DOM as HTML, an injected `onerror` or `<script>` would be refused by the
 * browser ('unsafe-inline' would allow it).
 */
import { createHash } from 'node:crypto';

/** What a page may load besides its own hashed inline blocks. */
export interface PageCspOptions {
  /** Stylesheets from this origin too (the dashboard's admin.css); default: inline styles only. */
  readonly selfStyles?: boolean;
}

/** The hash sources (`'sha256-...'`) of every inline `<tag>` block of `html`, space-separated. */
export function inlineHashes(html: string, tag: 'script' | 'style'): string {
  return [...html.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g'))]
    .map(
      (m) =>
        `'sha256-${createHash('sha256')
          .update(m[1] ?? '')
          .digest('base64')}'`,
    )
    .join(' ');
}

/** The policy of a page: its inline blocks' hashes pinned, scripts (and optionally styles) from 'self'. */
export function hashPinnedCsp(html: string, options: PageCspOptions = {}): string {
  const styles = inlineHashes(html, 'style');
  return [
    "default-src 'none'",
    "connect-src 'self'",
    "img-src 'self' data:",
    options.selfStyles === true ? `style-src 'self' ${styles}`.trimEnd() : `style-src ${styles || "'none'"}`,
    // 'self' admits the bundles the page's scripts import; nothing else on this origin is a script (every
    // other route answers JSON or text with nosniff, which a browser refuses to run).
    `script-src 'self' ${inlineHashes(html, 'script')}`.trimEnd(),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
