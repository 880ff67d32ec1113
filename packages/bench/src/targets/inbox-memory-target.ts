/** `server.deliver` into the in-process inbox store: the memory engine's (the default, one node). */
import { startDeliveryTarget } from './delivery-target.js';
import type { RunningTarget, TargetConfig } from './target.js';

/** Start the inbox-memory target. */
export function start(config: TargetConfig): Promise<RunningTarget> {
  return startDeliveryTarget(config, { api: 'deliver' });
}
