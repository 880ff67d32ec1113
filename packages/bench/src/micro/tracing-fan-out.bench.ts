/**
 * What tracing costs a fan-out (issue 15: "no cost when it is not set"): `server.publish` to N subscribers
 * whose sockets are in-memory Duplex streams (memory-upgrade.ts), the server's CPU time per delivery
 * measured three ways, interleaved run by run so that drifts of the machine spread over all three:
 *
 * - `none`: no `tracerProvider` option (the global provider, with no SDK registered: the CLI without
 *   OTEL_EXPORTER_OTLP_ENDPOINT);
 * - `api no-op`: `tracerProvider: new ProxyTracerProvider()` from @opentelemetry/api, with no delegate (its
 *   tracers are the API's no-op tracer);
 * - `sdk`: a real SDK provider (@opentelemetry/sdk-trace-base `BasicTracerProvider`, a
 *   `SimpleSpanProcessor` into an `InMemorySpanExporter` emptied every round), so every publish records
 *   its publish span and its fan-out span (two spans per publication, not per recipient).
 *
 * Standalone (its setup is asynchronous), not in the `micro` runner's list:
 *
 *   node packages/bench/dist/micro/tracing-fan-out.bench.js [subscribers,...] [deliveries] [runs]
 *
 * Each run publishes deliveries / subscribers messages (default 1,000,000 deliveries, so a run lasts a few
 * hundred ms of CPU whatever the room size); the median of `runs` (default 9) is reported.
 *
 * SWITCHBOARD_SERVER=/path/to/server/dist/index.js measures another build.
 */
import { ProxyTracerProvider } from '@opentelemetry/api';
import type { TracerProvider } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { median } from '../stats/aggregate.js';
import { ADMISSION_OFF } from '../targets/admission-off.js';
import { MemorySocket, loadServer, turn, upgradeRequest } from './memory-upgrade.js';
import type { ServerModule } from './memory-upgrade.js';

/** One way of (not) tracing. */
interface Mode {
  readonly name: string;
  /** The provider to pass, or undefined for none; `spans` counts what it recorded. */
  make(): { provider: TracerProvider | undefined; spans(): number; reset(): void };
}

const MODES: readonly Mode[] = [
  { name: 'none', make: () => ({ provider: undefined, spans: () => 0, reset: () => {} }) },
  {
    name: 'api no-op',
    make: () => ({ provider: new ProxyTracerProvider(), spans: () => 0, reset: () => {} }),
  },
  {
    name: 'sdk',
    make: () => {
      const exporter = new InMemorySpanExporter();
      let recorded = 0;
      return {
        provider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
        spans: () => recorded + exporter.getFinishedSpans().length,
        reset: () => {
          recorded += exporter.getFinishedSpans().length;
          exporter.reset();
        },
      };
    },
  },
];

/** One run's figures. */
interface Figures {
  readonly cpuNsPerDelivery: number;
  readonly wallNsPerDelivery: number;
  readonly spansPerPublish: number;
}

async function measureRun(
  sb: ServerModule,
  mode: Mode,
  subscribers: number,
  rounds: number,
): Promise<Figures> {
  const tracing = mode.make();
  const server = sb.createServer({
    host: '127.0.0.1',
    port: 0,
    heartbeatIntervalMs: 600_000,
    heartbeatTimeoutMs: 1_800_000,
    ...ADMISSION_OFF,
    ...(tracing.provider === undefined ? {} : { tracerProvider: tracing.provider }),
  });
  await server.start();
  const sockets: MemorySocket[] = [];
  try {
    for (let i = 0; i < subscribers; i++) {
      const socket = new MemorySocket();
      sockets.push(socket);
      server.handleUpgrade(upgradeRequest('/ws?batch=1', socket), socket, Buffer.alloc(0));
    }
    while (server.stats().connections < subscribers) await turn();
    const subscribe = Buffer.from('{"type":"subscribe","channel":"bench"}');
    const frame = Buffer.concat([Buffer.from([0x81, 0x80 | subscribe.length, 0, 0, 0, 0]), subscribe]);
    for (const socket of sockets) socket.push(frame);
    while ((await server.channelInfo('bench')).members < subscribers) await turn();
    const data = { text: 'x'.repeat(60), n: 0 };
    const publish = async (messages: number): Promise<void> => {
      for (let sent = 0; sent < messages; sent++) {
        data.n = sent;
        await server.publish('bench', data);
        await turn();
        tracing.reset();
      }
    };
    await publish(Math.max(20, Math.round(rounds / 5))); // warm-up
    const spansBefore = tracing.spans();
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    await publish(rounds);
    const wallNs = Number(process.hrtime.bigint() - started);
    const used = process.cpuUsage(cpu);
    const delivered = rounds * subscribers;
    return {
      cpuNsPerDelivery: ((used.user + used.system) * 1000) / delivered,
      wallNsPerDelivery: wallNs / delivered,
      spansPerPublish: (tracing.spans() - spansBefore) / rounds,
    };
  } finally {
    for (const socket of sockets) socket.destroy();
    await server.stop();
  }
}

const { sb, override } = await loadServer();
const sizes = (process.argv[2] ?? '1000,10').split(',').map(Number);
const deliveries = Number(process.argv[3] ?? 1_000_000);
const runs = Number(process.argv[4] ?? 9);
process.stdout.write(
  `fan-out with and without tracing, in-memory sockets, ${deliveries} deliveries per run, median of ${runs} interleaved runs${override === undefined ? '' : ` (${override})`}\n\n`,
);
process.stdout.write(
  '| subscribers | tracing | CPU ns/delivery, median [min – max] | wall ns/delivery | spans/publish | median ÷ none | min ÷ none |\n| --- | --- | --- | --- | --- | --- | --- |\n',
);
for (const subscribers of sizes) {
  const rounds = Math.max(20, Math.round(deliveries / subscribers));
  const results = new Map<string, Figures[]>(MODES.map((m) => [m.name, []]));
  for (let run = 0; run < runs; run++) {
    for (const mode of MODES) results.get(mode.name)?.push(await measureRun(sb, mode, subscribers, rounds));
  }
  const baseRuns = (results.get('none') ?? []).map((r) => r.cpuNsPerDelivery);
  const base = median(baseRuns);
  // The fastest run is the one the machine disturbed least: on a shared machine its ratio is the steadier.
  const baseMin = Math.min(...baseRuns);
  for (const mode of MODES) {
    const figures = results.get(mode.name) ?? [];
    const cpu = figures.map((r) => r.cpuNsPerDelivery);
    const cpuMedian = median(cpu);
    process.stdout.write(
      `| ${subscribers} | ${mode.name} | ${cpuMedian.toFixed(0)} [${Math.min(...cpu).toFixed(0)} – ${Math.max(...cpu).toFixed(0)}] | ${median(figures.map((r) => r.wallNsPerDelivery)).toFixed(0)} | ${median(figures.map((r) => r.spansPerPublish)).toFixed(2)} | ×${(cpuMedian / base).toFixed(3)} | ×${(Math.min(...cpu) / baseMin).toFixed(3)} |\n`,
    );
  }
}
