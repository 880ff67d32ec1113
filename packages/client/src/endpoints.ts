/**
 * The server URLs a client may connect to, and which one the next attempt uses. With several (one per
 * node, without a load balancer in front), an attempt that fails before `connected` moves on to the next
 * URL; a connection that was up and is lost tries its own URL first (its session lives there, unless the
 * nodes share sessions over Redis), and moves on only if that attempt fails too. A connection closed by a
 * draining node (1012 with a `retry after` hint) moves on at once: that node is going away.
 */
import { InvalidOptionError } from './errors.js';

/** What a client connects to: one URL, or several tried in turn. */
export type ServerUrls = string | readonly string[];

/** The ws: or wss: URLs of `urls`, checked; throws InvalidOptionError naming the bad one. */
export function checkServerUrls(urls: ServerUrls): readonly string[] {
  const list = typeof urls === 'string' ? [urls] : urls;
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidOptionError('url', urls, 'a ws: or wss: URL, or a non-empty array of them');
  }
  for (const url of list as readonly unknown[]) {
    let parsed: URL | null = null;
    try {
      parsed = typeof url === 'string' ? new URL(url) : null;
    } catch {
      // reported below
    }
    if (parsed === null || (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')) {
      throw new InvalidOptionError('url', url, 'an absolute ws: or wss: URL');
    }
  }
  return Object.freeze([...list]);
}

/** Round-robin over the server URLs, moving on after a failed attempt. */
export class Endpoints {
  private index = 0;

  constructor(readonly urls: readonly string[]) {}

  /** The URL the next attempt uses. */
  get current(): string {
    return this.urls[this.index] ?? this.urls[0] ?? '';
  }

  /** An attempt on {@link current} failed before it was connected (or its node drains): try the next URL. */
  attemptFailed(): void {
    this.index = (this.index + 1) % this.urls.length;
  }
}
