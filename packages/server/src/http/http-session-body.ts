/** The HTTP transports' bodies and plain answers (http-session-endpoint.ts). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CODE_INFO, ErrorCode } from '@switchboard/protocol';
import type { PollAnswer } from '../transports/polling-transport.js';
import { sendError } from './http-utils.js';
import { corsHeaders } from './sse-endpoint.js';

/** A poll's JSON body, assembled around the frames' text (no re-encoding). */
export function pollBody(answer: PollAnswer): string {
  const frames = answer.frames.map((f) => f.toString('utf8')).join(',');
  const close = answer.close === undefined ? '' : `,"close":${JSON.stringify(answer.close)}`;
  return `{"cursor":${answer.cursor},"frames":[${frames}]${close}}`;
}

/** The body as text, or null when it is over `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    req.resume();
    return null;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * 410 Gone: no such connection here (closed, abandoned, never opened, or held by a node this one cannot
 * reach). Not 404, which says the path itself is wrong: this one is right, and a new connection fixes it.
 */
export function gone(req: IncomingMessage, res: ServerResponse): void {
  sendError(
    res,
    ErrorCode.NotFound,
    'no such connection (it closed or was never opened): open a new one',
    410,
    corsHeaders(req),
  );
}

export function noStore(req: IncomingMessage): Record<string, string> {
  return { 'cache-control': 'no-store', ...corsHeaders(req) };
}

/** An error answer's JSON body (as sendError writes it). */
export function errorBody(code: ErrorCode, message: string): string {
  return JSON.stringify({ error: { code, message, temporary: ERROR_CODE_INFO[code].temporary } });
}

/** A POST body's frames: one per line, blank lines skipped. */
export function lines(body: string): string[] {
  return body.split('\n').filter((line) => line.trim() !== '');
}
