/**
 * Encoding a v1 `message` push with @switchboard/protocol's codec: what a fan-out pays once per
 * publication (never per recipient), so its cost bounds the publish rate of one node.
 */
import { encodeServerFrame } from '@switchboard/protocol';
import type { MessagePush } from '@switchboard/protocol';
import type { MicroBenchmark } from './micro.js';

/** The micro-benchmark. */
export const encodeMessagePush: MicroBenchmark = {
  name: 'protocol.encodeServerFrame(message push)',
  description: 'JSON-encode a v1 message push with a ~100-byte object payload',
  setup() {
    let id = 0;
    const data = {
      ts: 1_712_345_678_901.123,
      n: 42,
      text: 'hello from the benchmark',
      tags: ['a', 'b', 'c'],
    };
    return () => {
      const push: MessagePush = {
        type: 'message',
        channel: 'chat:lobby',
        id: ++id,
        data,
        time: 1_712_345_678_901,
      };
      return encodeServerFrame(push);
    };
  },
};
