/**
 * A file served from memory with a strong ETag: the browser SDK bundle (`/sdk/switchboard.js`) and its
 * source map. Loaded once at start-up, so a request never touches the disk.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A file held in memory, ready to serve. */
export interface StaticAsset {
  readonly body: Buffer;
  readonly contentType: string;
  /** A strong validator: the quoted base64url SHA-256 of `body` (RFC 9110 section 8.8.3). */
  readonly etag: string;
}

/**
 * The file's URL has no version in it, so a browser must ask before it reuses a copy (`no-cache` means
 * "revalidate", not "do not store"): an upgrade is picked up on the next load, and an unchanged file
 * costs a 304 without a body.
 */
const CACHE_CONTROL = 'public, no-cache';

/** Read `url` into a {@link StaticAsset}, or null when the file does not exist. */
export async function loadStaticAsset(url: URL, contentType: string): Promise<StaticAsset | null> {
  let body: Buffer;
  try {
    body = await readFile(url);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const etag = `"${createHash('sha256').update(body).digest('base64url')}"`;
  return { body, contentType, etag };
}

/** Whether the request's `If-None-Match` names `etag` (or is `*`): the client's copy is current. */
function fresh(req: IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (header === undefined) return false;
  // Weak comparison (RFC 9110 section 13.1.2): a proxy may have marked our tag weak.
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}

/** Answer with `asset`, or 304 when the client's copy is current. */
export function sendStaticAsset(req: IncomingMessage, res: ServerResponse, asset: StaticAsset): void {
  const headers = {
    etag: asset.etag,
    'cache-control': CACHE_CONTROL,
    'x-content-type-options': 'nosniff',
    // A page on another origin may import the SDK as a module (which is a CORS request).
    'access-control-allow-origin': '*',
    'cross-origin-resource-policy': 'cross-origin',
  };
  if (fresh(req, asset.etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-type': asset.contentType, 'content-length': asset.body.length });
  res.end(asset.body);
}
