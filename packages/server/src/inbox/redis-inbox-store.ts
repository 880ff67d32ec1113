import { randomBytes } from 'node:crypto';
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
import { DEFAULT_INBOX_LIMITS } from './inbox-store.js';
import {
  ACK,
  ACK_INDEXED,
  ATTEMPT,
  DEAD_LETTER,
  DELETE_DEAD_LETTER,
  DELIVER,
  DELIVER_INDEXED,
  EXPIRE,
  PENDING,
  REDELIVER,
  TAKE,
  TOUCH,
  UNDELIVERED,
  parseDeadLetter,
} from './redis-inbox-scripts.js';
import type { RedisContext } from '../redis/redis-context.js';
import { toBackendError } from '../redis/redis-connection.js';
import type { RedisScript } from '../redis/redis-scripts.js';

/** A message row as the scripts return it: seq, r, json, time, expiresAt, maxAttempts[, attempts]. */
type Row = readonly [string, string, string, string, string, string, string?];

/** `{letters, dropped}` as the scripts return it. */
type LettersReply = readonly [readonly string[], number];

/** A message id is `<seq>.<random>`; anything else was never stored. */
const MESSAGE_ID = /^\d{1,16}\.[\w-]{1,32}$/;

/**
 * Users' inboxes in Redis Streams, shared by every node. Each user's keys share the hash tag `{i:<user>}`
 * and every operation on them is one Lua script (redis-inbox-scripts.ts), so each is atomic, on Redis
 * Cluster too. Durability is Redis's: `deliver` resolves once Redis has applied the script; what a restart
 * keeps depends on its persistence (docs/scaling.md, "What survives a Redis restart").
 *
 * The sweeps (`expire`, `undelivered`) span every user without SCAN through two sorted sets in the
 * `{inbox}` slot (one slot: every node's sweeps and every deliver write it), one member per message:
 * by expiry, and by time stored for the messages no device has acked yet. A script cannot span slots,
 * so a message's members (`<random part of its id>|<user>`: known before its seq is) are written before
 * the user's script stores it: every stored message is indexed, whatever fails in between. A member
 * whose message was never stored or is gone is dropped by the sweep that meets it; the members of a
 * message that leaves are removed after its script. On a standalone Redis (not a Cluster) every key is on
 * one server, and `deliver` and `ack` write the indexes inside their script instead (one round trip each).
 */
export class RedisInboxStore implements InboxStore {
  private readonly limits: InboxLimits;

  constructor(
    readonly context: RedisContext,
    limits: Partial<InboxLimits> = {},
  ) {
    this.limits = { ...DEFAULT_INBOX_LIMITS, ...limits };
  }

  async deliver(input: DeliverInput): Promise<DeliverOutcome> {
    const { userId, json, now } = input;
    const r = randomToken();
    const expiresAt = now + input.ttlMs;
    // Standalone: the script indexes the message itself (one round trip); Cluster: indexed before.
    const indexed = this.standalone();
    if (!indexed) await this.index(userId, r, now, expiresAt);
    const reply = (await this.run(
      indexed ? DELIVER_INDEXED : DELIVER,
      userId,
      [
        this.limits.maxMessages,
        this.limits.maxBytes,
        this.limits.whenFull === 'dead-letter-oldest' ? '1' : '0',
        r,
        json,
        Buffer.byteLength(json),
        expiresAt,
        input.maxAttempts,
        this.limits.idempotencyWindowMs,
        ...(indexed ? [member(r, userId)] : []),
      ],
      input.idempotencyKey,
      now,
      indexed,
    )) as [number, ...unknown[]];
    if (reply[0] === 2) {
      if (!indexed) await this.unindex(userId, [r]);
      return { ok: false, reason: 'full' };
    }
    if (reply[0] === 1) {
      if (!indexed) await this.unindex(userId, [r]);
      const [id = '', seq, time, prior, maxAttempts] = JSON.parse(String(reply[1])) as string[];
      const held = reply[2];
      const message: InboxMessage = {
        id,
        userId,
        seq: Number(seq),
        json: typeof held === 'string' ? held : json,
        time: Number(time),
        expiresAt: Number(prior),
        maxAttempts: Number(maxAttempts),
      };
      return { ok: true, message, duplicate: true, evicted: [], dropped: 0 };
    }
    const [, seq, letters, dropped] = reply as unknown as [number, number, readonly string[], number];
    const message: InboxMessage = {
      id: `${seq}.${r}`,
      userId,
      seq: Number(seq),
      json,
      time: now,
      expiresAt,
      maxAttempts: input.maxAttempts,
    };
    const evicted = letters.map(parseDeadLetter);
    await this.unindex(
      userId,
      evicted.map((letter) => randomPart(letter.id)),
    );
    return { ok: true, message, duplicate: false, evicted, dropped: Number(dropped) };
  }

  async touchDevice(userId: string, device: string, now: number): Promise<void> {
    const gone = (await this.run(TOUCH, userId, [device], undefined, now)) as readonly string[];
    await this.unindex(userId, gone.map(randomPart));
  }

  async pending(
    userId: string,
    device: string,
    afterSeq: number,
    limit: number,
    now: number,
  ): Promise<readonly PendingMessage[]> {
    if (limit <= 0) return [];
    const rows = (await this.run(
      PENDING,
      userId,
      [device, afterSeq, limit],
      undefined,
      now,
    )) as readonly Row[];
    return rows.map((row) => ({ ...toMessage(userId, row), attempts: Number(row[6] ?? 0) }));
  }

  async take(
    userId: string,
    device: string,
    afterSeq: number,
    limit: number,
    now: number,
  ): Promise<readonly PendingMessage[]> {
    if (limit <= 0) return [];
    const rows = (await this.run(TAKE, userId, [device, afterSeq, limit], undefined, now)) as readonly Row[];
    return rows.map((row) => ({ ...toMessage(userId, row), attempts: Number(row[6] ?? 0) }));
  }

  async attempt(userId: string, device: string, id: string): Promise<number> {
    if (!MESSAGE_ID.test(id)) return 0;
    return Number(await this.run(ATTEMPT, userId, [device, id]));
  }

  async ack(userId: string, device: string, id: string, now: number): Promise<'acked' | 'unknown'> {
    if (!MESSAGE_ID.test(id)) return 'unknown';
    const indexed = this.standalone();
    const r = randomPart(id);
    const [known, left, first] = (await this.run(
      indexed ? ACK_INDEXED : ACK,
      userId,
      indexed ? [device, id, member(r, userId)] : [device, id],
      undefined,
      now,
      indexed,
    )) as number[];
    if (known !== 1) return 'unknown';
    if (indexed) return 'acked'; // the script updated the indexes
    if (left === 1) await this.unindex(userId, [randomPart(id)]);
    else if (first === 1) await this.unindex(userId, [randomPart(id)], 'u');
    return 'acked';
  }

  async deadLetter(
    userId: string,
    id: string,
    reason: DeadLetterReason,
    now: number,
    device?: string,
  ): Promise<DeadLettered> {
    if (!MESSAGE_ID.test(id)) return { letters: [], dropped: 0 };
    const reply = (await this.run(
      DEAD_LETTER,
      userId,
      [id, reason, device ?? ''],
      undefined,
      now,
    )) as LettersReply;
    const out = deadLettered(reply);
    if (out.letters.length > 0) await this.unindex(userId, [randomPart(id)]);
    return out;
  }

  async expire(now: number, limit: number): Promise<DeadLettered> {
    if (limit <= 0) return { letters: [], dropped: 0 };
    const members = await this.call('inbox expiry index', () =>
      this.context.client.zrangebyscore(this.context.keys.inboxIndex('x'), '-inf', now, 'LIMIT', 0, limit),
    );
    const users = [...byUser(members)];
    const replies = await Promise.all(
      users.map(([userId, rs]) => this.run(EXPIRE, userId, rs, undefined, now)),
    );
    await this.drop(members, 'both');
    const letters: DeadLetter[] = [];
    let dropped = 0;
    for (const [i, reply] of replies.entries()) {
      const out = deadLettered(reply as LettersReply);
      // The sweep covers every user: each letter says whose it was (for onDeadLetter).
      const userId = users[i]?.[0] ?? '';
      for (const letter of out.letters) letters.push({ ...letter, userId });
      dropped += out.dropped;
    }
    return { letters, dropped };
  }

  async undelivered(before: number, limit: number): Promise<readonly InboxMessage[]> {
    if (limit <= 0) return [];
    const members = await this.call('inbox undelivered index', () =>
      this.context.client.zrangebyscore(this.context.keys.inboxIndex('u'), '-inf', before, 'LIMIT', 0, limit),
    );
    const replies = await Promise.all(
      [...byUser(members)].map(async ([userId, rs]) => {
        const rows = (await this.run(UNDELIVERED, userId, [before, ...rs])) as readonly Row[];
        return rows.map((row) => toMessage(userId, row));
      }),
    );
    await this.drop(members, 'u');
    return replies.flat();
  }

  async deadLetters(userId: string, limit: number): Promise<readonly DeadLetter[]> {
    if (limit <= 0) return [];
    const stored = await this.call('inbox dead letters', () =>
      this.context.client.lrange(`${this.context.keys.inbox(userId)}:l`, 0, limit - 1),
    );
    return stored.map(parseDeadLetter);
  }

  async redeliver(
    userId: string,
    id: string,
    now: number,
    ttlMs: number,
  ): Promise<DeliverOutcome | undefined> {
    const r = randomToken();
    // Indexed before it is stored (see the class comment); its expiry is known, its time is `now`.
    await this.index(userId, r, now, now + ttlMs);
    const reply = (await this.run(
      REDELIVER,
      userId,
      [this.limits.maxMessages, this.limits.maxBytes, id, r, ttlMs],
      undefined,
      now,
    )) as [number, number?, string?, string?, string?];
    if (reply[0] !== 0) await this.unindex(userId, [r]);
    if (reply[0] === 3) return undefined;
    if (reply[0] === 2) return { ok: false, reason: 'full' };
    const [, seq, json = 'null', maxAttempts, expiresAt] = reply;
    const message: InboxMessage = {
      id: `${seq}.${r}`,
      userId,
      seq: Number(seq),
      json,
      time: now,
      expiresAt: Number(expiresAt),
      maxAttempts: Number(maxAttempts),
    };
    return { ok: true, message, duplicate: false, evicted: [], dropped: 0 };
  }

  async deleteDeadLetter(userId: string, id: string): Promise<boolean> {
    return (await this.run(DELETE_DEAD_LETTER, userId, [id])) === 1;
  }

  /** The engine owns the connection and closes it. */
  async close(): Promise<void> {
    await Promise.resolve();
  }

  // ---------------------------------------------------------------- internals

  /** Run one of the user's scripts; Redis being away or busy rejects with BackendUnavailableError. */
  private async run(
    script: RedisScript,
    userId: string,
    args: readonly (string | number)[],
    idempotencyKey?: string,
    now = 0,
    indexed = false,
  ): Promise<unknown> {
    const base = this.context.keys.inbox(userId);
    const keys = [`${base}:m`, `${base}:h`, `${base}:d`, `${base}:l`, `${base}:k:`];
    if (indexed) keys.push(this.context.keys.inboxIndex('x'), this.context.keys.inboxIndex('u'));
    if (idempotencyKey !== undefined) keys.push(`${base}:i:${idempotencyKey}`);
    const { deviceTtlMs, maxDeadLetters } = this.limits;
    return this.call(script.name, () =>
      script.run(this.context.client, keys, [now, deviceTtlMs, maxDeadLetters, ...args]),
    );
  }

  private async call<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw toBackendError(error, what);
    }
  }

  /**
   * Whether every key lives on one server (not a Cluster): the user's scripts may then write the `{inbox}`
   * sweep indexes themselves, saving the separate index round trips.
   */
  private standalone(): boolean {
    return !this.context.client.isCluster;
  }

  /** Add a message (by the random part of its id) to both sweep indexes. */
  private async index(userId: string, r: string, time: number, expiresAt: number): Promise<void> {
    const { client, keys } = this.context;
    const name = member(r, userId);
    await this.call('inbox index', () =>
      client
        .multi()
        .zadd(keys.inboxIndex('x'), expiresAt, name)
        .zadd(keys.inboxIndex('u'), time, name)
        .exec(),
    );
  }

  /** Remove the user's messages (by the random parts of their ids) from both indexes, or `u` only. */
  private async unindex(userId: string, rs: readonly string[], which: 'both' | 'u' = 'both'): Promise<void> {
    await this.drop(
      rs.map((r) => member(r, userId)),
      which,
    );
  }

  private async drop(members: readonly string[], which: 'both' | 'u'): Promise<void> {
    if (members.length === 0) return;
    const { client, keys } = this.context;
    const batch = client.multi();
    if (which === 'both') batch.zrem(keys.inboxIndex('x'), ...members);
    batch.zrem(keys.inboxIndex('u'), ...members);
    await this.call('inbox index', () => batch.exec());
  }
}

/** The random part of a message id. */
function randomToken(): string {
  return randomBytes(9).toString('base64url');
}

/** An index member: `<random part of the message id>|<user id>` (that part holds no `|`). */
function member(r: string, userId: string): string {
  return `${r}|${userId}`;
}

/** The random part of a message id `<seq>.<r>`. */
function randomPart(id: string): string {
  return id.slice(id.indexOf('.') + 1);
}

/** Index members grouped by user. */
function byUser(members: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const entry of members) {
    const bar = entry.indexOf('|');
    if (bar < 0) continue;
    const userId = entry.slice(bar + 1);
    const ids = out.get(userId);
    if (ids === undefined) out.set(userId, [entry.slice(0, bar)]);
    else ids.push(entry.slice(0, bar));
  }
  return out;
}

function toMessage(userId: string, row: Row): InboxMessage {
  const [seq, r, json, time, expiresAt, maxAttempts] = row;
  return {
    id: `${seq}.${r}`,
    userId,
    seq: Number(seq),
    json,
    time: Number(time),
    expiresAt: Number(expiresAt),
    maxAttempts: Number(maxAttempts),
  };
}

function deadLettered([letters, dropped]: LettersReply): DeadLettered {
  return { letters: letters.map(parseDeadLetter), dropped: Number(dropped) };
}
