import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Checks the server API key in constant time. Both sides are hashed first so that the comparison does not
 * leak the key's length either.
 */
export class ApiKeyGuard {
  private readonly expected: Buffer | null;

  constructor(key: string | undefined) {
    this.expected = key === undefined ? null : digest(key);
  }

  /** Whether a key is configured at all. */
  get enabled(): boolean {
    return this.expected !== null;
  }

  /** Whether the request carries the key (`Authorization: Bearer <key>` or `X-API-Key: <key>`). */
  allows(req: IncomingMessage): boolean {
    if (this.expected === null) return true;
    const header = req.headers['x-api-key'];
    let presented = typeof header === 'string' ? header : undefined;
    const auth = req.headers.authorization;
    if (presented === undefined && auth !== undefined && /^bearer /i.test(auth))
      presented = auth.slice(7).trim();
    if (presented === undefined) return false;
    return timingSafeEqual(digest(presented), this.expected);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
