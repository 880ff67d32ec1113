/**
 * The admin dashboard's page and its built files, read once at start-up from packages/server/public/admin/
 * (the page is committed; admin.js, admin.css and admin.js.map are built by `npm run build`). The page's
 * policy pins its inline blocks (page-csp.ts) and admits its own scripts and stylesheets.
 */
import { readFile, readdir } from 'node:fs/promises';
import { hashPinnedCsp } from './page-csp.js';
import { loadStaticAsset } from './static-asset.js';
import type { StaticAsset } from './static-asset.js';

/** The page (null when public/admin/index.html is missing), its policy, and the other files by name. */
export interface AdminPage {
  readonly body: Buffer | null;
  readonly csp: string;
  readonly assets: ReadonlyMap<string, StaticAsset>;
}

/** Where the page and its bundle live. */
export const ADMIN_PAGE_DIR = new URL('../../public/admin/', import.meta.url);

/** The file the page is. */
const PAGE = 'index.html';

/** Content types of the files served beside the page; a file of any other kind is not served. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
  json: 'application/json; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
  txt: 'text/plain; charset=utf-8',
};

/** Read the page and every file of a known type beside it (not below: the directory is flat). */
export async function loadAdminPage(dir: URL = ADMIN_PAGE_DIR): Promise<AdminPage> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    names = [];
  }
  const body = names.includes(PAGE) ? await readFile(new URL(PAGE, dir)) : null;
  const assets = new Map<string, StaticAsset>();
  for (const name of names) {
    const type = CONTENT_TYPES[name.slice(name.lastIndexOf('.') + 1)];
    if (name === PAGE || type === undefined) continue;
    const asset = await loadStaticAsset(new URL(encodeURIComponent(name), dir), type);
    if (asset !== null) assets.set(name, asset);
  }
  return { body, csp: hashPinnedCsp(body?.toString('utf8') ?? '', { selfStyles: true }), assets };
}
