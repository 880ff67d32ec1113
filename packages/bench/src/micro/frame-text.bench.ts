/**
 * Framing a fan-out's text as a WebSocket message. Before, ws framed it per recipient (`ws.send`: its
 * Sender allocates a header and writes header and payload as two chunks for every socket); now
 * `frameText` builds header + payload once per fan-out, and each recipient costs one write of the same
 * Buffer. These figures are the framing work itself: once per fan-out now, once per recipient before.
 *
 * Register in runner.ts (`MICRO_BENCHMARKS`), or run standalone:
 *   node --import tsx packages/bench/src/micro/frame-text.bench.ts
 */
import { frameText } from '@switchboard/server';
import type { MicroBenchmark } from './micro.js';

/** ws's Sender.frame, which `ws.send` runs for every recipient (not in @types/ws). */
interface WsSender {
  frame(
    data: Buffer,
    options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean },
  ): Buffer[];
}
// The ESM entry of ws exports Sender by name.
const { Sender } = (await import('ws')) as unknown as { Sender: WsSender };

const SMALL = Buffer.from(
  JSON.stringify({
    type: 'message',
    channel: 'chat:lobby',
    id: 42,
    data: { text: 'hello from the benchmark', n: 42, tags: ['a', 'b', 'c'] },
    time: 1_712_345_678_901,
  }),
);
const LARGE = Buffer.alloc(70_000, 0x61);

function framing(name: string, payload: Buffer, frame: (payload: Buffer) => unknown): MicroBenchmark {
  return {
    name,
    description: `frame a ${payload.length}-byte text payload`,
    setup: () => () => frame(payload),
  };
}

const SENDER_OPTIONS = { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false };

/** frameText, once per fan-out: a ~140-byte message push. */
export const frameTextSmall = framing('server.frameText(140 B), once per fan-out', SMALL, frameText);
/** frameText, once per fan-out: a 70 KB payload (64-bit length, one copy). */
export const frameTextLarge = framing('server.frameText(70 KB), once per fan-out', LARGE, frameText);
/** What ws.send framed per recipient before (the header; the payload went as a second chunk). */
export const wsSenderFrameSmall = framing('ws Sender.frame(140 B), per recipient before', SMALL, (p) =>
  Sender.frame(p, SENDER_OPTIONS),
);

/** Every benchmark of this file. */
export const FRAME_TEXT_BENCHMARKS: readonly MicroBenchmark[] = [
  frameTextSmall,
  frameTextLarge,
  wsSenderFrameSmall,
];

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const { measure } = await import('./measure.js');
  process.stdout.write('| benchmark | ns/op |\n| --- | --- |\n');
  for (const b of FRAME_TEXT_BENCHMARKS) {
    process.stdout.write(`| ${b.name} | ${measure(b).nsPerOp.toFixed(1)} |\n`);
  }
}
