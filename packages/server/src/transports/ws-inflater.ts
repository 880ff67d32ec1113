/**
 * No zlib inflater kept per connection between messages. ws inflates what a client sends compressed and
 * keeps the inflater for the connection's life once one message arrived compressed (about 7 KB of zlib
 * state per connection, and browsers compress everything they send). Switchboard negotiates
 * `client_no_context_takeover`, so an inflater carries nothing from one message to the next: it is closed
 * when a message ends and created again for the next one (measured within the noise of ws's reuse of
 * one: most of an inflation's cost is zlib's stream machinery, either way).
 *
 * The rest of ws's per-connection deflate state is shared too: the negotiated parameters (a prototype-less
 * dictionary object) and a copy of the server's deflate options (an object spread, with a hidden class of
 * its own), about 600 bytes of V8 heap per connection together. {@link shareDeflateState} swaps in one
 * frozen object per distinct content, so that a connection that negotiated compression costs about the
 * same as one that did not.
 *
 * This reaches into ws's PerMessageDeflate (`_decompress`, `_inflate`), per socket, not ws's prototype (an
 * application's own ws servers in the same process are untouched). ws is pinned by the lockfile; a test
 * (compression-inflater.test.ts) fails if an upgrade of ws changes these internals, and then
 * {@link releaseInflaterPerMessage} answers false and ws's own behaviour (one inflater kept) applies.
 */
import type { WebSocket } from 'ws';

type Inflated = (error: Error | null, result?: Buffer) => void;

/** The parts of ws's PerMessageDeflate this module relies on. */
interface DeflateExtension {
  _decompress(data: Buffer, fin: boolean, callback: Inflated): void;
  _inflate: { close(): void } | null;
  params: Readonly<Record<string, unknown>> | null;
  _options: Readonly<Record<string, unknown>>;
}

const EXTENSION = 'permessage-deflate';

/** ws's own `_decompress`, taken from the prototype of the first extension seen. */
let original: DeflateExtension['_decompress'] | null = null;

function releasingDecompress(this: DeflateExtension, data: Buffer, fin: boolean, callback: Inflated): void {
  (original as DeflateExtension['_decompress']).call(this, data, fin, (error, result) => {
    // A fragmented message keeps its inflater until its last fragment.
    if (fin && this._inflate !== null) {
      this._inflate.close();
      this._inflate = null;
    }
    callback(error, result);
  });
}

/**
 * Make `ws` close its inflater at the end of every message it inflates. Answers whether it could (false:
 * no permessage-deflate on this socket, the client may keep context, or ws's internals are not the ones
 * this module knows).
 */
export function releaseInflaterPerMessage(ws: WebSocket): boolean {
  const extension = extensionOf(ws);
  if (extension === undefined || extension.params?.['client_no_context_takeover'] !== true) return false;
  const proto = Object.getPrototypeOf(extension) as Partial<DeflateExtension> | null;
  const decompress = proto?._decompress;
  if (typeof decompress !== 'function' || !('_inflate' in extension)) return false;
  original ??= decompress;
  if (decompress !== original) return false;
  extension._decompress = releasingDecompress;
  return true;
}

/** Frozen copies of the objects ws keeps per connection, one per distinct content (a handful). */
const shared = new Map<string, Readonly<Record<string, unknown>>>();
const MAX_SHARED = 64;

function sharedCopy(value: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> | null {
  const entries = Object.keys(value)
    .sort()
    .map((key) => [key, value[key]] as const);
  const key = JSON.stringify(entries);
  let copy = shared.get(key);
  if (copy === undefined) {
    if (shared.size >= MAX_SHARED) return null;
    copy = Object.freeze(Object.fromEntries(entries));
    shared.set(key, copy);
  }
  return copy;
}

/**
 * Replace the negotiated parameters and the options ws keeps on `ws` (each connection gets its own copy
 * of both; ws only reads them after the handshake) with shared frozen copies. Answers whether it did.
 */
export function shareDeflateState(ws: WebSocket): boolean {
  const extension = extensionOf(ws);
  const params = extension?.params;
  const options = extension?._options;
  if (extension === undefined || params === null || params === undefined || options === undefined)
    return false;
  const sharedParams = sharedCopy(params);
  const sharedOptions = sharedCopy(options);
  if (sharedParams === null || sharedOptions === null) return false;
  extension.params = sharedParams;
  extension._options = sharedOptions;
  return true;
}

function extensionOf(ws: WebSocket): DeflateExtension | undefined {
  const extensions = (ws as unknown as { _extensions?: Record<string, unknown> })._extensions;
  return extensions?.[EXTENSION] as DeflateExtension | undefined;
}
