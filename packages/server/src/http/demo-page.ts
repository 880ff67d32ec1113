import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** The demo page and the Content-Security-Policy that allows exactly its own inline style and script. */
export interface DemoPage {
  readonly body: Buffer;
  readonly csp: string;
}

const DEMO_PAGE = new URL('../../public/index.html', import.meta.url);

/**
 * Load the demo page and hash its inline `<style>` and `<script>` blocks into the policy, so nothing
 * else can run on the page: even if a message ever reached the DOM as HTML, an injected `onerror` or
 * `<script>` would be refused by the browser ('unsafe-inline' would allow it).
 */
export async function loadDemoPage(): Promise<DemoPage> {
  const body = await readFile(DEMO_PAGE);
  const html = body.toString('utf8');
  const hashes = (tag: string): string =>
    [...html.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g'))]
      .map(
        (m) =>
          `'sha256-${createHash('sha256')
            .update(m[1] ?? '')
            .digest('base64')}'`,
      )
      .join(' ');
  const csp = [
    "default-src 'none'",
    "connect-src 'self'",
    "img-src 'self' data:",
    `style-src ${hashes('style') || "'none'"}`,
    `script-src ${hashes('script') || "'none'"}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { body, csp };
}
