import { readFile } from 'node:fs/promises';
import { loadStaticAsset } from './static-asset.js';
import type { StaticAsset } from './static-asset.js';
import { hashPinnedCsp } from './page-csp.js';

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

/** Load the demo page, its policy (page-csp.ts: only its own inline blocks run), and the SDK bundle. */
export async function loadDemoPage(): Promise<DemoPage> {
  const body = await readFile(DEMO_PAGE);
  const csp = hashPinnedCsp(body.toString('utf8'));
  const [sdk, sdkSourceMap] = await Promise.all([
    loadStaticAsset(SDK_BUNDLE, 'text/javascript; charset=utf-8'),
    loadStaticAsset(SDK_SOURCE_MAP, 'application/json; charset=utf-8'),
  ]);
  return { body, csp, sdk, sdkSourceMap };
}
