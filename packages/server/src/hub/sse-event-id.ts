/**
 * The SSE event id: the position of every channel of a stream in one short, URL-safe string, so that
 * one `Last-Event-ID` resumes all of them (docs/protocol.md#event-ids). Pure; no I/O.
 *
 * An id is one entry per channel, in the stream's channel order (names sorted, duplicates removed),
 * joined by `.`; an entry is `<epoch tag>:<offset in base 36>`. The epoch tag is the stream's epoch itself
 * when it is a short URL-safe string (the memory and Redis engines' 8-character epochs), else the first
 * 12 characters of its SHA-256 in base64url: enough to tell a changed epoch, never the whole of a long one.
 */
import { createHash } from 'node:crypto';

/** The most channels one SSE stream may carry; with it, an id is at most ~900 characters. */
export const MAX_SSE_CHANNELS = 32;

/** The longest `Last-Event-ID` (or `?last_event_id=`) read; a longer one starts the stream live, with a gap. */
export const MAX_LAST_EVENT_ID_LENGTH = 1024;

/** One channel's place in an id. */
export interface SseEntry {
  readonly tag: string;
  readonly offset: number;
}

const SHORT_EPOCH = /^[A-Za-z0-9_-]{1,12}$/;
const ENTRY = /^([A-Za-z0-9_-]{1,12}):([0-9a-z]{1,11})$/;

/** The tag of an epoch in ids. */
export function epochTag(epoch: string): string {
  if (SHORT_EPOCH.test(epoch)) return epoch;
  return createHash('sha256').update(epoch).digest('base64url').slice(0, 12);
}

/** The id of `entries`. */
export function encodeEventId(entries: readonly SseEntry[]): string {
  let out = '';
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as SseEntry;
    out += `${i === 0 ? '' : '.'}${entry.tag}:${entry.offset.toString(36)}`;
  }
  return out;
}

/**
 * The entries of an id for a stream of `channels` channels, or null when it is not one (garbage, too
 * long, another number of channels, an offset past 2^53).
 */
export function decodeEventId(id: string, channels: number): SseEntry[] | null {
  if (id.length === 0 || id.length > MAX_LAST_EVENT_ID_LENGTH) return null;
  const parts = id.split('.');
  if (parts.length !== channels) return null;
  const entries: SseEntry[] = [];
  for (const part of parts) {
    const match = ENTRY.exec(part);
    if (match === null) return null;
    const offset = parseInt(match[2] as string, 36);
    if (!Number.isSafeInteger(offset)) return null;
    entries.push({ tag: match[1] as string, offset });
  }
  return entries;
}
