/**
 * Users' inboxes in this process's memory (one node: the memory engine's default). Per user: messages in
 * seq order (a Map for lookups, an array for `pending` from a seq), each with the devices that acked it
 * and each device's attempts; the devices with when each was last seen; dead letters; idempotency keys.
 * Two heaps, by expiry and by store time, serve `expire` and `undelivered` without scanning every user;
 * entries that leave early are dropped from them lazily and compacted away when they outnumber the live.
 */
import { randomBytes } from 'node:crypto';
import { MinHeap } from '../util/min-heap.js';
import { settle } from '../util/settle.js';
import { DeadLetterList } from './dead-letter-list.js';
import { IdempotencyWindow } from './idempotency-window.js';
import { DEFAULT_INBOX_LIMITS } from './inbox-store.js';
import type {
  DeadLetter,
  DeadLetterReason,
  DeadLettered,
  DeliverInput,
  DeliverOutcome,
  InboxLimits,
  InboxMessage,
  InboxStore,
  PendingMessage,
} from './inbox-store.js';

/** Options for {@link MemoryInboxStore}. */
export interface MemoryInboxStoreOptions {
  /** Bounds; each left out is {@link DEFAULT_INBOX_LIMITS}'. */
  readonly limits?: Partial<InboxLimits>;
}

interface Entry {
  readonly inbox: Inbox;
  readonly message: InboxMessage;
  readonly bytes: number;
  /** Devices that acked it. */
  readonly acks: Set<string>;
  /** Attempts per device. */
  readonly attempts: Map<string, number>;
  reported: boolean;
  gone: boolean;
}

interface Inbox {
  /** Live messages by id, in seq order (insertion order): the first is the oldest. */
  readonly byId: Map<string, Entry>;
  /** Messages in seq order from `head`, including some gone ones (compacted when they are many). */
  order: Entry[];
  head: number;
  goneInOrder: number;
  bytes: number;
  /** Known devices and when each was last seen. */
  readonly devices: Map<string, number>;
  readonly dead: DeadLetterList;
  readonly keys: IdempotencyWindow<InboxMessage>;
}

/** Heap entries past this many beyond twice the live messages trigger a compaction. */
const COMPACT_SLACK = 1024;

/** Every user's inbox in memory. */
export class MemoryInboxStore implements InboxStore {
  private readonly limits: InboxLimits;
  private readonly users = new Map<string, Inbox>();
  private readonly byExpiry = new MinHeap<Entry>();
  /** Messages not yet reported by `undelivered` (nor known to be acked), by store time. */
  private readonly byTime = new MinHeap<Entry>();
  private live = 0;
  /**
   * Seqs come from one counter for every user: still increasing per user, and a user whose record was
   * dropped (see {@link forgetIdle}) never sees a seq again that a device of theirs already passed.
   */
  private seqCounter = 0;
  /** Where {@link forgetIdle} goes on (a live Map iterator: deletions and additions are safe). */
  private idleCursor: Iterator<[string, Inbox]> | null = null;
  /** Ids: a random prefix per store, then a counter, so two processes' ids never collide. */
  private readonly idPrefix = randomBytes(8).toString('hex');
  private idCounter = 0;

  constructor(options: MemoryInboxStoreOptions = {}) {
    this.limits = { ...DEFAULT_INBOX_LIMITS, ...options.limits };
  }

  deliver(input: DeliverInput): Promise<DeliverOutcome> {
    return settle(() => {
      const inbox = this.inbox(input.userId);
      if (input.idempotencyKey !== undefined) {
        const first = inbox.keys.get(input.idempotencyKey, input.now);
        if (first !== undefined)
          return { ok: true, message: first, duplicate: true, evicted: [], dropped: 0 };
      }
      const bytes = Buffer.byteLength(input.json);
      if (bytes > this.limits.maxBytes) return FULL;
      const evicted: DeadLetter[] = [];
      let dropped = 0;
      if (!this.fits(inbox, bytes)) {
        if (this.limits.whenFull === 'reject') return FULL;
        for (const oldest of inbox.byId.values()) {
          if (this.fits(inbox, bytes)) break;
          const killed = this.kill(inbox, oldest, 'evicted', input.now);
          evicted.push(killed.letter);
          dropped += killed.dropped;
        }
      }
      const message = this.store(
        inbox,
        input.userId,
        input.json,
        bytes,
        input.now,
        input.ttlMs,
        input.maxAttempts,
      );
      if (input.idempotencyKey !== undefined) inbox.keys.set(input.idempotencyKey, message, input.now);
      return { ok: true, message, duplicate: false, evicted, dropped };
    });
  }

  touchDevice(userId: string, device: string, now: number): Promise<void> {
    return settle(() => {
      this.inbox(userId).devices.set(device, now);
    });
  }

  pending(
    userId: string,
    device: string,
    afterSeq: number,
    limit: number,
    now: number,
  ): Promise<readonly PendingMessage[]> {
    return settle(() => {
      const inbox = this.users.get(userId);
      const out: PendingMessage[] = [];
      if (inbox === undefined) return out;
      const order = inbox.order;
      for (let i = this.firstAfter(inbox, afterSeq); i < order.length && out.length < limit; i++) {
        const entry = order[i];
        if (entry === undefined) break;
        if (entry.gone || entry.message.expiresAt <= now || entry.acks.has(device)) continue;
        out.push({ ...entry.message, attempts: entry.attempts.get(device) ?? 0 });
      }
      return out;
    });
  }

  take(
    userId: string,
    device: string,
    afterSeq: number,
    limit: number,
    now: number,
  ): Promise<readonly PendingMessage[]> {
    return settle(() => {
      const inbox = this.users.get(userId);
      const out: PendingMessage[] = [];
      if (inbox === undefined) return out;
      const order = inbox.order;
      for (let i = this.firstAfter(inbox, afterSeq); i < order.length && out.length < limit; i++) {
        const entry = order[i];
        if (entry === undefined) break;
        if (entry.gone || entry.message.expiresAt <= now || entry.acks.has(device)) continue;
        const before = entry.attempts.get(device) ?? 0;
        // Spent: not counted, returned past maxAttempts for the caller to dead-letter.
        if (before < entry.message.maxAttempts) entry.attempts.set(device, before + 1);
        out.push({ ...entry.message, attempts: before + 1 });
      }
      return out;
    });
  }

  attempt(userId: string, device: string, id: string): Promise<number> {
    return settle(() => {
      const entry = this.users.get(userId)?.byId.get(id);
      if (entry === undefined) return 0;
      const attempts = (entry.attempts.get(device) ?? 0) + 1;
      entry.attempts.set(device, attempts);
      return attempts;
    });
  }

  ack(userId: string, device: string, id: string, now: number): Promise<'acked' | 'unknown'> {
    return settle(() => {
      const inbox = this.users.get(userId);
      const entry = inbox?.byId.get(id);
      if (inbox === undefined || entry === undefined || entry.message.expiresAt <= now) return 'unknown';
      // A device that acks is in use.
      inbox.devices.set(device, now);
      entry.acks.add(device);
      if (this.ackedByEveryDevice(inbox, entry, now)) this.remove(inbox, entry);
      return 'acked';
    });
  }

  deadLetter(
    userId: string,
    id: string,
    reason: DeadLetterReason,
    now: number,
    device?: string,
  ): Promise<DeadLettered> {
    return settle(() => {
      const inbox = this.users.get(userId);
      const entry = inbox?.byId.get(id);
      if (inbox === undefined || entry === undefined) return { letters: [], dropped: 0 };
      const { letter, dropped } = this.kill(inbox, entry, reason, now, device);
      return { letters: [letter], dropped };
    });
  }

  expire(now: number, limit: number): Promise<DeadLettered> {
    return settle(() => {
      const letters: DeadLetter[] = [];
      let dropped = 0;
      let removed = 0;
      while (removed < limit) {
        const top = this.byExpiry.peek();
        if (top === undefined || top.key > now) break;
        this.byExpiry.pop();
        const entry = top.value;
        if (entry.gone) continue;
        removed++;
        const inbox = entry.inbox;
        if (entry.acks.size > 0) {
          this.remove(inbox, entry);
        } else {
          const killed = this.kill(inbox, entry, 'expired', now);
          // The sweep covers every user: each letter says whose it was (for onDeadLetter).
          letters.push({ ...killed.letter, userId: entry.message.userId });
          dropped += killed.dropped;
        }
      }
      this.forgetIdle(now, limit);
      return { letters, dropped };
    });
  }

  undelivered(before: number, limit: number): Promise<readonly InboxMessage[]> {
    return settle(() => {
      const out: InboxMessage[] = [];
      while (out.length < limit) {
        const top = this.byTime.peek();
        if (top === undefined || top.key > before) break;
        this.byTime.pop();
        const entry = top.value;
        // Acked by some device: it can never be undelivered again, so it leaves this heap for good.
        if (entry.gone || entry.reported || entry.acks.size > 0) continue;
        entry.reported = true;
        out.push(entry.message);
      }
      return out;
    });
  }

  deadLetters(userId: string, limit: number): Promise<readonly DeadLetter[]> {
    return settle(() => this.users.get(userId)?.dead.list(limit) ?? []);
  }

  redeliver(userId: string, id: string, now: number, ttlMs: number): Promise<DeliverOutcome | undefined> {
    return settle((): DeliverOutcome | undefined => {
      const inbox = this.users.get(userId);
      const kept = inbox?.dead.get(id);
      if (inbox === undefined || kept === undefined) return undefined;
      const bytes = Buffer.byteLength(kept.letter.json);
      // Never evicts: moving another message out to bring this one back would only trade dead letters.
      if (bytes > this.limits.maxBytes || !this.fits(inbox, bytes)) return FULL;
      inbox.dead.delete(id);
      const message = this.store(inbox, userId, kept.letter.json, bytes, now, ttlMs, kept.maxAttempts);
      return { ok: true, message, duplicate: false, evicted: [], dropped: 0 };
    });
  }

  deleteDeadLetter(userId: string, id: string): Promise<boolean> {
    return settle(() => this.users.get(userId)?.dead.delete(id) ?? false);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Drop the records of up to `limit` users, looking at no more than `limit`, that hold nothing any more:
   * no message, no dead letter, no idempotency key within its window, and no device seen within
   * deviceTtlMs (a device unseen that long is forgotten anyway). Without this a user's record, once
   * created, would stay for the life of the process. Each call goes on where the last one stopped.
   */
  private forgetIdle(now: number, limit: number): void {
    for (let looked = 0; looked < limit; looked++) {
      this.idleCursor ??= this.users.entries();
      const next = this.idleCursor.next();
      if (next.done === true) {
        this.idleCursor = null;
        return;
      }
      const [userId, inbox] = next.value;
      if (inbox.byId.size > 0 || inbox.dead.size > 0) continue;
      inbox.keys.forget(now);
      if (inbox.keys.size > 0) continue;
      let seen = false;
      for (const last of inbox.devices.values()) if (now - last < this.limits.deviceTtlMs) seen = true;
      if (!seen) this.users.delete(userId);
    }
  }

  /** Users whose records the store holds (for tests and stats). */
  get userCount(): number {
    return this.users.size;
  }

  private inbox(userId: string): Inbox {
    let inbox = this.users.get(userId);
    if (inbox === undefined) {
      inbox = {
        byId: new Map(),
        order: [],
        head: 0,
        goneInOrder: 0,
        bytes: 0,
        devices: new Map(),
        dead: new DeadLetterList(this.limits.maxDeadLetters),
        keys: new IdempotencyWindow(this.limits.idempotencyWindowMs),
      };
      this.users.set(userId, inbox);
    }
    return inbox;
  }

  private fits(inbox: Inbox, bytes: number): boolean {
    return inbox.byId.size + 1 <= this.limits.maxMessages && inbox.bytes + bytes <= this.limits.maxBytes;
  }

  private store(
    inbox: Inbox,
    userId: string,
    json: string,
    bytes: number,
    now: number,
    ttlMs: number,
    maxAttempts: number,
  ): InboxMessage {
    const message: InboxMessage = {
      id: `${this.idPrefix}-${(++this.idCounter).toString(36)}`,
      userId,
      seq: ++this.seqCounter,
      json,
      time: now,
      expiresAt: now + ttlMs,
      maxAttempts,
    };
    const entry: Entry = {
      inbox,
      message,
      bytes,
      acks: new Set(),
      attempts: new Map(),
      reported: false,
      gone: false,
    };
    inbox.byId.set(message.id, entry);
    inbox.order.push(entry);
    inbox.bytes += bytes;
    this.byExpiry.push(message.expiresAt, entry);
    this.byTime.push(message.time, entry);
    this.live++;
    return message;
  }

  /** Whether every device seen within deviceTtlMs acked `entry`; forgets the others on the way. */
  private ackedByEveryDevice(inbox: Inbox, entry: Entry, now: number): boolean {
    let every = true;
    for (const [device, seen] of inbox.devices) {
      if (now - seen >= this.limits.deviceTtlMs) inbox.devices.delete(device);
      else if (!entry.acks.has(device)) every = false;
    }
    return every;
  }

  /** Move `entry` to the user's dead letters. */
  private kill(
    inbox: Inbox,
    entry: Entry,
    reason: DeadLetterReason,
    now: number,
    device?: string,
  ): { letter: DeadLetter; dropped: number } {
    this.remove(inbox, entry);
    const { id, json, time, maxAttempts } = entry.message;
    const attempts =
      device === undefined ? Math.max(0, ...entry.attempts.values()) : (entry.attempts.get(device) ?? 0);
    const letter: DeadLetter = {
      id,
      json,
      time,
      deadAt: now,
      reason,
      attempts,
      ...(device === undefined ? {} : { device }),
    };
    return { letter, dropped: inbox.dead.add(letter, maxAttempts) };
  }

  private remove(inbox: Inbox, entry: Entry): void {
    entry.gone = true;
    inbox.byId.delete(entry.message.id);
    inbox.bytes -= entry.bytes;
    this.live--;
    if (++inbox.goneInOrder > 32 && inbox.goneInOrder * 2 > inbox.order.length - inbox.head) {
      inbox.order = inbox.order.slice(inbox.head).filter((e) => !e.gone);
      inbox.head = 0;
      inbox.goneInOrder = 0;
    } else {
      // The oldest leave first most of the time: skip them without copying.
      while (inbox.head < inbox.order.length && inbox.order[inbox.head]?.gone === true) {
        inbox.head++;
        inbox.goneInOrder--;
      }
      if (inbox.head > 1024 && inbox.head * 2 > inbox.order.length) {
        inbox.order = inbox.order.slice(inbox.head);
        inbox.head = 0;
      }
    }
    const most = 2 * this.live + COMPACT_SLACK;
    if (this.byExpiry.size > most) this.byExpiry.compact((e) => !e.gone);
    if (this.byTime.size > most) this.byTime.compact((e) => !e.gone && !e.reported && e.acks.size === 0);
  }

  /** The index in `order` of the first message with a seq above `afterSeq` (binary search). */
  private firstAfter(inbox: Inbox, afterSeq: number): number {
    const order = inbox.order;
    let low = inbox.head;
    let high = order.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((order[mid]?.message.seq ?? Infinity) <= afterSeq) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

const FULL: DeliverOutcome = { ok: false, reason: 'full' };
