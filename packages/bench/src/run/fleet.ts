/**
 * The generator processes of one run. Each holds the connections of its share of every connect wave
 * and binds its own loopback source address, so 50,000+ connections fit under the per-process
 * open-file limit and the per-address ephemeral port range (~28k).
 */
import { childModule } from '../ipc/child-module.js';
import { RpcClient } from '../ipc/rpc.js';
import type {
  ChurnParams,
  ChurnResult,
  ConnectResult,
  Counters,
  GeneratorApi,
  IndexRange,
  ReconnectParams,
  ReconnectStatus,
  RoomSpec,
} from '../generator/plan.js';
import { overlap, splitProportionally } from '../generator/plan.js';
import type { PayloadShape } from '../generator/plan.js';
import { Histogram } from '../stats/histogram.js';
import type { DialectName } from '../targets/target.js';
import { trackChild } from './children.js';

const HOST = childModule('../generator/generator-host', import.meta.url);

/** Connections one generator holds at most (a process may have 20,000 open files here). */
export const MAX_PER_GENERATOR = 15_000;

/**
 * Fleets started by this process. Each fleet binds fresh source addresses (127.<serial>.<generator>.n):
 * ports a previous run left in TIME_WAIT on an address slow down bind() there, which would make
 * connect figures depend on what ran before.
 */
let fleetSerial = 0;

interface Member {
  readonly rpc: RpcClient<GeneratorApi>;
  readonly capacity: number;
  /** The global index ranges this generator holds (one per connect wave). */
  readonly blocks: IndexRange[];
}

function held(member: Member): number {
  return member.blocks.reduce((a, b) => a + b.count, 0);
}

function overlapping(member: Member, range: IndexRange): number {
  return member.blocks.reduce((sum, block) => sum + overlap(block, range), 0);
}

/** Element-wise sum of per-100 ms series. */
function addSeries(into: number[], series: readonly number[]): void {
  series.forEach((n, i) => (into[i] = (into[i] ?? 0) + n));
}

/** The generators of a run. */
export class Fleet {
  /** The global index the next connection gets: indices are handed out in connect order. */
  private nextIndex = 0;

  private constructor(private readonly members: readonly Member[]) {}

  /**
   * Start enough generators for `planned` connections (at least `minimum`), ready to speak `dialect`
   * to `url`.
   */
  static async start(options: {
    readonly planned: number;
    readonly minimum: number;
    readonly dialect: DialectName;
    /** Whether the WebSocket clients offer permessage-deflate. */
    readonly deflate: boolean;
    readonly url: string;
    readonly jwtSecret: string;
  }): Promise<Fleet> {
    const count = Math.max(options.minimum, Math.ceil(options.planned / MAX_PER_GENERATOR), 1);
    const capacity = Math.ceil(options.planned / count);
    const subnet = 1 + (fleetSerial++ % 250);
    const members: Member[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const rpc = RpcClient.spawn<GeneratorApi>(HOST.path, {
          name: `generator ${i}`,
          args: [String(i)],
          execArgv: HOST.execArgv,
        });
        trackChild(rpc.child);
        members.push({ rpc, capacity, blocks: [] });
      }
      await Promise.all(
        members.map(async (m, i) => {
          await m.rpc.ready();
          await m.rpc.call('init', {
            dialect: options.dialect,
            deflate: options.deflate,
            url: options.url,
            addressPrefix: `127.${subnet}.${i}.`,
            jwtSecret: options.jwtSecret,
          });
        }),
      );
    } catch (error) {
      await Promise.all(members.map((m) => m.rpc.kill()));
      throw error;
    }
    return new Fleet(members);
  }

  /** Generator processes. */
  get size(): number {
    return this.members.length;
  }

  /** Connections held (ready or not). */
  get held(): number {
    return this.members.reduce((a, m) => a + held(m), 0);
  }

  /**
   * Open `count` more connections across the generators (by free capacity); they get the next
   * `count` global indices, which the returned range names.
   */
  async connect(
    count: number,
    concurrency: number,
    timeoutMs: number,
  ): Promise<ConnectResult & { readonly range: IndexRange }> {
    const range = { first: this.nextIndex, count };
    this.nextIndex += count;
    const shares = splitProportionally(
      count,
      this.members.map((m) => Math.max(0, m.capacity - held(m))),
    );
    let first = range.first;
    const results = await Promise.all(
      this.members.map(async (m, i) => {
        const share = shares[i] ?? 0;
        const block = { first, count: share };
        first += share;
        m.blocks.push(block);
        const perGenerator = Math.max(1, Math.round(concurrency / this.members.length));
        return m.rpc.call(
          'connect',
          { firstIndex: block.first, count: share, concurrency: perGenerator, timeoutMs },
          timeoutMs + 30_000,
        );
      }),
    );
    const times = new Histogram();
    const readyPer100Ms: number[] = [];
    for (const r of results) {
      times.merge(r.connectTimes);
      addSeries(readyPer100Ms, r.readyPer100Ms);
    }
    return {
      range,
      ready: results.reduce((a, r) => a + r.ready, 0),
      failed: results.reduce((a, r) => a + r.failed, 0),
      elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
      connectTimes: times.snapshot(),
      readyPer100Ms,
    };
  }

  /** Subscribe every held connection in `range` to its room. */
  async subscribe(range: IndexRange, rooms: RoomSpec, timeoutMs: number): Promise<number> {
    const results = await Promise.all(
      this.members.map((m) => m.rpc.call('subscribe', { range, rooms, timeoutMs }, timeoutMs + 10_000)),
    );
    return results.reduce((a, r) => a + r.subscribed, 0);
  }

  /**
   * Publish `messages` messages at `ratePerSecond` in total from the held connections in `range`, in
   * bursts of `burst` back-to-back messages; resolves with the number actually published.
   */
  async publish(
    range: IndexRange,
    rooms: RoomSpec,
    ratePerSecond: number,
    messages: number,
    payloadBytes: number,
    burst = 1,
    payloadShape: PayloadShape = 'padded',
  ): Promise<number> {
    const publishers = this.members.map((m) => overlapping(m, range));
    const shares = splitProportionally(messages, publishers);
    const total = publishers.reduce((a, b) => a + b, 0);
    const expectedMs = (messages / ratePerSecond) * 1000;
    const results = await Promise.all(
      this.members.map((m, i) => {
        const share = shares[i] ?? 0;
        if (share === 0) return Promise.resolve({ published: 0, elapsedMs: 0 });
        const rate = (ratePerSecond * (publishers[i] ?? 0)) / total;
        return m.rpc.call(
          'publish',
          { range, rooms, ratePerSecond: rate, messages: share, payloadBytes, burst, payloadShape },
          expectedMs * 2 + 30_000,
        );
      }),
    );
    return results.reduce((a, r) => a + r.published, 0);
  }

  /** End the running publish on every generator (its promise resolves with what was published). */
  async stopPublishing(): Promise<void> {
    await Promise.all(this.members.map((m) => m.rpc.call('stopPublishing', null)));
  }

  /** Merged counters of every generator. */
  async counters(reset: boolean, latency: boolean): Promise<Counters> {
    const all = await Promise.all(this.members.map((m) => m.rpc.call('counters', { reset, latency })));
    const histogram = new Histogram();
    for (const c of all) if (c.latency !== null) histogram.merge(c.latency);
    return {
      received: all.reduce((a, c) => a + c.received, 0),
      carriers: all.reduce((a, c) => a + c.carriers, 0),
      bytesRead: all.reduce((a, c) => a + c.bytesRead, 0),
      published: all.reduce((a, c) => a + c.published, 0),
      acknowledged: all.reduce((a, c) => a + c.acknowledged, 0),
      cpuMicros: all.reduce((a, c) => a + c.cpuMicros, 0),
      latency: latency ? histogram.snapshot() : null,
      pings: all.reduce((a, c) => a + c.pings, 0),
      subscribeErrors: all.reduce((a, c) => a + c.subscribeErrors, 0),
      firstSubscribeError: all.find((c) => c.subscribeErrors > 0)?.firstSubscribeError ?? '',
      subscribeFailures: all.reduce((a, c) => a + c.subscribeFailures, 0),
      others: all.reduce((a, c) => a + c.others, 0),
      firstOther: all.find((c) => c.others > 0)?.firstOther ?? '',
      unexpectedCloses: all.reduce((a, c) => a + c.unexpectedCloses, 0),
      open: all.reduce((a, c) => a + c.open, 0),
    };
  }

  /** Churn connections on every generator (rate and pool split evenly). */
  async churn(params: ChurnParams): Promise<ChurnResult> {
    const n = this.members.length;
    const results = await Promise.all(
      this.members.map((m) =>
        m.rpc.call(
          'churn',
          { ...params, ratePerSecond: params.ratePerSecond / n, poolSize: Math.ceil(params.poolSize / n) },
          params.durationMs + 30_000,
        ),
      ),
    );
    const times = new Histogram();
    for (const r of results) times.merge(r.connectTimes);
    return {
      connected: results.reduce((a, r) => a + r.connected, 0),
      disconnected: results.reduce((a, r) => a + r.disconnected, 0),
      failed: results.reduce((a, r) => a + r.failed, 0),
      connectTimes: times.snapshot(),
    };
  }

  /** Turn reconnection on or off on every generator. */
  async reconnect(params: ReconnectParams): Promise<void> {
    await Promise.all(this.members.map((m) => m.rpc.call('reconnect', params)));
  }

  /** Merged reconnection progress. */
  async reconnectStatus(): Promise<ReconnectStatus> {
    const all = await Promise.all(this.members.map((m) => m.rpc.call('reconnectStatus', null)));
    const backPer100Ms: number[] = [];
    const firsts = all.map((s) => s.firstCloseAt).filter((t) => t > 0);
    const first = firsts.length === 0 ? 0 : Math.min(...firsts);
    for (const s of all) {
      // Align each generator's series on the earliest close.
      const shift = s.firstCloseAt === 0 ? 0 : Math.round((s.firstCloseAt - first) / 100);
      addSeries(backPer100Ms, [...new Array<number>(shift).fill(0), ...s.backPer100Ms]);
    }
    return {
      ready: all.reduce((a, s) => a + s.ready, 0),
      held: all.reduce((a, s) => a + s.held, 0),
      reconnects: all.reduce((a, s) => a + s.reconnects, 0),
      backPer100Ms,
      firstCloseAt: first,
      lastBackAt: Math.max(0, ...all.map((s) => s.lastBackAt)),
    };
  }

  /** Close every connection, then stop every generator. */
  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        if (!m.rpc.dead) await m.rpc.call('closeAll', null, 15_000).catch(() => undefined);
        await m.rpc.kill();
      }),
    );
  }
}
