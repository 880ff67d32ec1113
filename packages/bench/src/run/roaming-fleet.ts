/**
 * The roaming generator processes of a drain or failover run (generator/roaming-host.ts): each holds at
 * most {@link MAX_ROAMERS_PER_GENERATOR} clients (a process may have 20,000 open files here, and a
 * client's next socket may open before its last one is reaped) on source addresses of its own.
 */
import { setPriority } from 'node:os';
import { childModule } from '../ipc/child-module.js';
import { RpcClient } from '../ipc/rpc.js';
import type { BackoffSettings } from '../generator/roam-policy.js';
import type {
  PublishOutcome,
  PublishPlan,
  Refusals,
  RoamProgress,
  RoamReport,
  RoamingApi,
} from '../generator/roaming-plan.js';
import { addFigures, NO_FIGURES } from '../generator/sequence-check.js';
import { splitProportionally } from '../generator/plan.js';
import { trackChild } from './children.js';

const HOST = childModule('../generator/roaming-host', import.meta.url);

/** Roaming clients one generator process holds at most. */
export const MAX_ROAMERS_PER_GENERATOR = 10_000;

/** Fleets started by this process: each takes fresh source addresses (127.<252..254>.<generator>.n). */
let serial = 0;

/** What a roaming fleet is started with. */
export interface RoamingFleetOptions {
  readonly clients: number;
  /** At least this many processes. */
  readonly minimum: number;
  readonly nodes: readonly string[];
  readonly jwtSecret: string;
  readonly roomPrefix: string;
  readonly roomSize: number;
  readonly backoff: BackoffSettings;
  /**
   * The generator processes' niceness (0: as the rest; up to 19): on a machine shared with the servers,
   * a positive value lets the kernel prefer the servers, as if the clients ran on machines of their own.
   */
  readonly niceness?: number;
}

function addRefusals(a: Refusals, b: Refusals): Refusals {
  return {
    http503: a.http503 + b.http503,
    httpOther: a.httpOther + b.httpOther,
    connRefused: a.connRefused + b.connRefused,
    other: a.other + b.other,
  };
}

/** Merge the reports of several generators (per-client lists concatenated, counters summed). */
export function mergeReports(reports: readonly RoamReport[], nodes: number): RoamReport {
  const otherCloses: Record<number, number> = {};
  for (const r of reports) {
    for (const [code, n] of Object.entries(r.otherCloses)) {
      otherCloses[Number(code)] = (otherCloses[Number(code)] ?? 0) + n;
    }
  }
  const empty: Refusals = { http503: 0, httpOther: 0, connRefused: 0, other: 0 };
  return {
    lostAt: reports.flatMap((r) => r.lostAt),
    backAt: reports.flatMap((r) => r.backAt),
    node: reports.flatMap((r) => r.node),
    attempts: reports.flatMap((r) => r.attempts),
    acceptedAt: Array.from({ length: nodes }, (_, i) => reports.flatMap((r) => r.acceptedAt[i] ?? [])),
    refusals: Array.from({ length: nodes }, (_, i) =>
      reports.reduce((sum, r) => addRefusals(sum, r.refusals[i] ?? empty), empty),
    ),
    hintedCloses: reports.reduce((a, r) => a + r.hintedCloses, 0),
    hintedDelayMs: reports.reduce((a, r) => a + r.hintedDelayMs, 0),
    otherCloses,
    subscribeRefusals: reports.reduce((a, r) => a + r.subscribeRefusals, 0),
    firstSubscribeRefusal: reports.find((r) => r.subscribeRefusals > 0)?.firstSubscribeRefusal ?? '',
    subscribeFailures: reports.reduce((a, r) => a + r.subscribeFailures, 0),
    firstDuplicate: reports.find((r) => r.firstDuplicate !== '')?.firstDuplicate ?? '',
    sequence: reports.reduce((a, r) => addFigures(a, r.sequence), NO_FIGURES),
    behind: reports.reduce((a, r) => a + r.behind, 0),
    behindBy: reports.reduce((a, r) => a + r.behindBy, 0),
  };
}

/** The roaming generators of one run. */
export class RoamingFleet {
  private nextIndex = 0;

  private constructor(
    private readonly members: readonly RpcClient<RoamingApi>[],
    private readonly nodes: number,
  ) {}

  /** Start enough processes for `options.clients` clients. */
  static async start(options: RoamingFleetOptions): Promise<RoamingFleet> {
    const count = Math.max(options.minimum, Math.ceil(options.clients / MAX_ROAMERS_PER_GENERATOR), 1);
    const subnet = 252 + (serial++ % 3);
    const members: RpcClient<RoamingApi>[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const rpc = RpcClient.spawn<RoamingApi>(HOST.path, {
          name: `roaming generator ${i}`,
          execArgv: HOST.execArgv,
        });
        trackChild(rpc.child);
        members.push(rpc);
        if ((options.niceness ?? 0) > 0 && rpc.child.pid !== undefined)
          setPriority(rpc.child.pid, options.niceness ?? 0);
      }
      await Promise.all(
        members.map(async (m, i) => {
          await m.ready();
          await m.call('init', {
            nodes: options.nodes,
            addressPrefix: `127.${subnet}.${i}.`,
            jwtSecret: options.jwtSecret,
            roomPrefix: options.roomPrefix,
            roomSize: options.roomSize,
            backoff: options.backoff,
          });
        }),
      );
    } catch (error) {
      await Promise.all(members.map((m) => m.kill()));
      throw error;
    }
    return new RoamingFleet(members, options.nodes.length);
  }

  /** Generator processes. */
  get size(): number {
    return this.members.length;
  }

  /**
   * Open `count` more clients on node `start` (then `others`, rotated per client), subscribed to their
   * rooms; split evenly over the generators.
   */
  async connect(
    count: number,
    start: number,
    others: readonly number[],
    concurrency: number,
    timeoutMs: number,
  ): Promise<{ ready: number; failed: number; elapsedMs: number }> {
    const shares = splitProportionally(
      count,
      this.members.map(() => 1),
    );
    let first = this.nextIndex;
    this.nextIndex += count;
    const perGenerator = Math.max(1, Math.round(concurrency / this.members.length));
    const results = await Promise.all(
      this.members.map((m, i) => {
        const share = shares[i] ?? 0;
        const params = {
          firstIndex: first,
          count: share,
          start,
          others,
          concurrency: perGenerator,
          timeoutMs,
        };
        first += share;
        return m.call('connect', params, timeoutMs + 30_000);
      }),
    );
    return {
      ready: results.reduce((a, r) => a + r.ready, 0),
      failed: results.reduce((a, r) => a + r.failed, 0),
      elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
    };
  }

  /** Count losses, attempts, accepts and refusals afresh from now on. */
  async mark(): Promise<void> {
    await Promise.all(this.members.map((m) => m.call('mark', null)));
  }

  /** Merged progress. */
  async progress(): Promise<RoamProgress> {
    const all = await Promise.all(this.members.map((m) => m.call('progress', null)));
    return {
      clients: all.reduce((a, p) => a + p.clients, 0),
      ready: all.reduce((a, p) => a + p.ready, 0),
      lost: all.reduce((a, p) => a + p.lost, 0),
      back: all.reduce((a, p) => a + p.back, 0),
      readyByNode: Array.from({ length: this.nodes }, (_, i) =>
        all.reduce((a, p) => a + (p.readyByNode[i] ?? 0), 0),
      ),
    };
  }

  /** Start the numbered publisher (in the first generator). */
  async startPublisher(plan: PublishPlan): Promise<void> {
    await this.members[0]?.call('startPublisher', plan, 30_000);
  }

  /** Stop it: what it published and the last id of every room. */
  async stopPublisher(): Promise<PublishOutcome> {
    const first = this.members[0];
    if (first === undefined) throw new Error('no generator');
    return first.call('stopPublisher', null, 30_000);
  }

  /** Every generator's report, merged (each waits at most `timeoutMs` for its clients to catch up). */
  async report(lastIds: Readonly<Record<number, number>>, timeoutMs: number): Promise<RoamReport> {
    const all = await Promise.all(
      this.members.map((m) => m.call('report', { lastIds, timeoutMs }, timeoutMs + 30_000)),
    );
    return mergeReports(all, this.nodes);
  }

  /** Close every client, then stop every generator. */
  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        if (!m.dead) await m.call('closeAll', null, 15_000).catch(() => undefined);
        await m.kill();
      }),
    );
  }
}
