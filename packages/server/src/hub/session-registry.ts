import { randomFillSync } from 'node:crypto';
import type { StreamPosition } from '@switchboard/protocol';
import { sweepPeriod } from '../util/clock.js';
import type { Clock, TimerHandle } from '../util/clock.js';

/** A session's channels while it has none (shared: a record's `channels` is replaced, never mutated). */
const NO_CHANNELS: ReadonlyMap<string, StreamPosition | null> = new Map();

/** What survives a connection for the session's grace period. */
export class SessionRecord<C> {
  /** The connection holding the session now; null while it is away. */
  connection: C | null;
  /** While away: each subscribed channel with the position last delivered to it. */
  channels: ReadonlyMap<string, StreamPosition | null> = NO_CHANNELS;
  /** While away: when the session is forgotten (ms since the Unix epoch). */
  expiresAt = 0;
  /** See {@link state}: created on first use, as most sessions never keep any. */
  private stateMap: Map<string, unknown> | null;

  constructor(
    readonly id: string,
    readonly userId: string | null,
    connection: C | null,
    state: Map<string, unknown> | null = null,
  ) {
    this.connection = connection;
    this.stateMap = state;
  }

  /** Application state kept across resumes (`connection.data`). */
  get state(): Map<string, unknown> {
    return (this.stateMap ??= new Map());
  }

  /** Whether {@link state} holds anything (reading it does not create it). */
  get hasState(): boolean {
    return this.stateMap !== null && this.stateMap.size > 0;
  }
}

/** Session ids drawn per refill of the random pool. */
const IDS_PER_REFILL = 256;
/** A session id is 16 random bytes (128 bits), written as 22 base64url characters. */
const ID_BYTES = 16;

/**
 * Sessions and their grace period. A session id is a 128-bit bearer secret: whoever presents it (as the
 * same user) within the grace period gets the session back. Only the connection that holds a session may
 * release it, so a replaced connection's late cleanup can never drop the new connection's state (the
 * seeds' step-7 race).
 */
export class SessionRegistry<C> {
  private readonly sessions = new Map<string, SessionRecord<C>>();
  private readonly away = new Set<SessionRecord<C>>();
  private sweeper: TimerHandle | null = null;
  /**
   * CSPRNG bytes for the next session ids. One randomFillSync per 256 ids instead of a randomBytes call
   * (and a Buffer) per session; each id's bytes are used once, as node's randomUUID batches its entropy.
   */
  private readonly random = Buffer.alloc(ID_BYTES * IDS_PER_REFILL);
  private randomOffset = ID_BYTES * IDS_PER_REFILL;

  /**
   * @param shared true when a shared store keeps sessions while they are away (the caller saves what
   *   {@link release} hands back): this registry then holds only sessions whose connection is open here.
   */
  constructor(
    private readonly graceMs: number,
    private readonly clock: Clock,
    private readonly shared = false,
  ) {}

  /** Sessions whose connection is away and not yet expired. */
  get detachedCount(): number {
    return this.away.size;
  }

  /** Sessions known (held or away). */
  get size(): number {
    return this.sessions.size;
  }

  /** Start expiring sessions: one timer for all of them. */
  start(): void {
    this.sweeper ??= this.clock.setInterval(() => this.sweep(), sweepPeriod(this.graceMs));
  }

  stop(): void {
    this.sweeper?.cancel();
    this.sweeper = null;
  }

  /** A session that is never kept (room-format connections cannot resume). */
  transient(userId: string | null, connection: C): SessionRecord<C> {
    return new SessionRecord(this.newId(), userId, connection);
  }

  /** A new session held by `connection`, resumable until its grace period runs out. */
  create(userId: string | null, connection: C): SessionRecord<C> {
    const record = this.transient(userId, connection);
    this.sessions.set(record.id, record);
    return record;
  }

  /**
   * Replace `connection`'s new session with one resumed from the shared store: same id, same state.
   * Returns null (and changes nothing) when the connection no longer holds the session it was given.
   */
  adopt(
    current: SessionRecord<C>,
    id: string,
    connection: C,
    state: Iterable<readonly [string, unknown]>,
  ): SessionRecord<C> | null {
    if (current.connection !== connection || this.sessions.get(current.id) !== current) return null;
    this.forget(current);
    const record = new SessionRecord(id, current.userId, connection, new Map(state));
    this.sessions.set(id, record);
    return record;
  }

  /**
   * Hand session `id` to `connection` if it exists, has not expired and belongs to `userId`. Returns the
   * record and the connection that held it until now (to be closed as replaced), or null.
   */
  claim(
    id: string,
    userId: string | null,
    connection: C,
  ): { record: SessionRecord<C>; previous: C | null } | null {
    const record = this.sessions.get(id);
    if (record === undefined || record.userId !== userId) return null;
    if (record.connection === null && record.expiresAt <= this.clock.now()) {
      this.forget(record);
      return null;
    }
    const previous = record.connection;
    record.connection = connection;
    this.away.delete(record);
    return { record, previous };
  }

  /**
   * `connection` went away. Keeps the session for the grace period with the given channel positions, but
   * only if `connection` still holds it; returns whether it did.
   */
  release(
    record: SessionRecord<C>,
    connection: C,
    channels: ReadonlyMap<string, StreamPosition | null>,
  ): boolean {
    if (record.connection !== connection) return false;
    if (!this.sessions.has(record.id)) {
      record.connection = null;
      return false;
    }
    record.connection = null;
    record.channels = channels;
    record.expiresAt = this.clock.now() + this.graceMs;
    if (this.graceMs === 0 || this.shared) this.forget(record);
    else this.away.add(record);
    return true;
  }

  /** Forget every session (shutdown). */
  clear(): void {
    this.sessions.clear();
    this.away.clear();
  }

  /** A new session id: 128 bits from the CSPRNG, base64url. */
  private newId(): string {
    if (this.randomOffset === this.random.length) {
      randomFillSync(this.random);
      this.randomOffset = 0;
    }
    const start = this.randomOffset;
    this.randomOffset += ID_BYTES;
    return this.random.toString('base64url', start, start + ID_BYTES);
  }

  private forget(record: SessionRecord<C>): void {
    this.sessions.delete(record.id);
    this.away.delete(record);
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const record of this.away) if (record.expiresAt <= now) this.forget(record);
  }
}
