/** The baseline of the delivery targets: `server.sendToUser` (no store, no ack), memory engine. */
import { startDeliveryTarget } from './delivery-target.js';
import type { RunningTarget, TargetConfig } from './target.js';

/** Start the send-to-user target. */
export function start(config: TargetConfig): Promise<RunningTarget> {
  return startDeliveryTarget(config, { api: 'send' });
}
