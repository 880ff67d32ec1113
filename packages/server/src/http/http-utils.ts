import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { ERROR_CODE_INFO } from '@switchboard/protocol';
import type { ErrorCode } from '@switchboard/protocol';

/** Why a request may not go on: answered with its status, code and message (and `Retry-After` for 429). */
export interface RequestRefusal {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
  /** Seconds until the client may try again (429 only). */
  readonly retryAfterSeconds?: number;
}

/** Decides whether a request may use a route: the API key guard, the admin dashboard's session guard. */
export interface RequestGuard {
  /** Null when the request may go on, else why not (already counted and logged). */
  check(req: IncomingMessage): RequestRefusal | null;
}

/** Write a JSON response. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Write a JSON error `{ "error": { code, message, temporary } }` with the code's HTTP status unless given. */
export function sendError(
  res: ServerResponse,
  code: ErrorCode,
  message: string,
  status?: number,
  headers: Record<string, string> = {},
): void {
  const info = ERROR_CODE_INFO[code];
  sendJson(res, status ?? info.httpStatus, { error: { code, message, temporary: info.temporary } }, headers);
}

/**
 * Refuse a WebSocket upgrade with an HTTP status and a JSON error body, then close the socket. An
 * expected rejection is an answer, never an exception (ws's abortHandshake pattern).
 */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  // Destroy once the answer is flushed: the server allows half-open sockets, and a client that never
  // closes its side would otherwise hold the file descriptor (ws's abortHandshake does the same).
  socket.once('finish', () => socket.destroy());
  socket.end(rawErrorResponse(status, code, message, headers));
}

/** A whole HTTP/1.1 error response with a JSON error body and `Connection: close`, as text for a socket. */
export function rawErrorResponse(
  status: number,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): string {
  const body = JSON.stringify({ error: { code, message, temporary: ERROR_CODE_INFO[code].temporary } });
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Connection: close\r\n' +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`
  );
}

/** Why a request body could not be read as JSON. */
export type BodyProblem = { readonly status: number; readonly code: ErrorCode; readonly message: string };

/** Whether a request carries a body (RFC 9112 section 6.3: a Transfer-Encoding or a non-zero Content-Length). */
export function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** Read a JSON request body of at most `limit` bytes. */
export async function readJsonBody(
  req: IncomingMessage,
  limit: number,
): Promise<{ ok: true; value: unknown } | ({ ok: false } & BodyProblem)> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    return { ok: false, status: 415, code: 'bad_request', message: 'content-type must be application/json' };
  }
  const tooLarge = (): { ok: false } & BodyProblem => {
    req.resume();
    return {
      ok: false,
      status: 413,
      code: 'message_too_large',
      message: `body is larger than ${limit} bytes`,
    };
  };
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.length === 0) return { ok: false, status: 400, code: 'invalid_json', message: 'body is empty' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, status: 400, code: 'invalid_json', message: 'body is not valid JSON' };
  }
}
