import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { loadStaticAsset } from './static-asset.js';
import type { StaticAsset } from './static-asset.js';

/**
 * The demo page, the Content-Security-Policy that allows exactly its own inline style and script (plus
 * same-origin scripts: the SDK bundle it imports), and that bundle.
 */
export interface DemoPage {
  readonly body: Buffer;
  readonly csp: string;
  /**
   * The client SDK as a browser ES module, served at `/sdk/switchboard.js`, and its source map; null when
   * the build did not produce it (`npm run build` copies it to public/sdk/; plain `tsc -b` does not).
   */
  readonly sdk: StaticAsset | null;
  readonly sdkSourceMap: StaticAsset | null;
}

const DEMO_PAGE = new URL('../../public/index.html', import.meta.url);
/** Copied here from packages/client/dist/browser/ by scripts/build-browser-sdk.mjs: the server never imports the client. */
const SDK_BUNDLE = new URL('../../public/sdk/switchboard.js', import.meta.url);
const SDK_SOURCE_MAP = new URL('../../public/sdk/switchboard.js.map', import.meta.url);

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
    // 'self' admits the SDK bundle the page's module script imports; nothing else on this origin is a
    // script (every other route answers JSON or text with nosniff, which a browser refuses to run).
    `script-src 'self' ${hashes('script')}`.trimEnd(),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const [sdk, sdkSourceMap] = await Promise.all([
    loadStaticAsset(SDK_BUNDLE, 'text/javascript; charset=utf-8'),
    loadStaticAsset(SDK_SOURCE_MAP, 'application/json; charset=utf-8'),
  ]);
  return { body, csp, sdk, sdkSourceMap };
}
