/**
 * In-process WebSocket upgrades for the standalone micro-benchmarks (fan-out, handshake): sockets that
 * live in memory, the upgrade request a browser would send, and the server build to measure.
 */
import { Duplex } from 'node:stream';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { pathToFileURL } from 'node:url';

/** The server library's module, as the benchmarks load it. */
export type ServerModule = typeof import('@switchboard/server');

/** A socket that accepts every write at once (nothing waits in it), counting bytes and write calls. */
export class MemorySocket extends Duplex {
  bytesWritten = 0;
  writes = 0;
  readonly remoteAddress = '127.0.0.1';
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytesWritten += chunk.length;
    this.writes++;
    callback();
  }
  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    for (const { chunk } of chunks) this.bytesWritten += chunk.length;
    this.writes++;
    callback();
  }
  setNoDelay(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
}

/** The upgrade request for `path` arriving on `socket`. */
export function upgradeRequest(path: string, socket: MemorySocket): IncomingMessage {
  const key = createHash('sha1').update(String(Math.random())).digest('base64').slice(0, 22) + '==';
  return {
    method: 'GET',
    url: path,
    headers: {
      host: 'localhost',
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': key,
      'sec-websocket-version': '13',
    },
    socket,
  } as unknown as IncomingMessage;
}

/** One event-loop turn. */
export const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** The build to measure: `SWITCHBOARD_SERVER=<dist/index.js>` for another one (before/after), else ours. */
export async function loadServer(): Promise<{ sb: ServerModule; override: string | undefined }> {
  const override = process.env['SWITCHBOARD_SERVER'];
  const sb = (await import(
    override === undefined ? '@switchboard/server' : pathToFileURL(override).href
  )) as ServerModule;
  return { sb, override };
}
