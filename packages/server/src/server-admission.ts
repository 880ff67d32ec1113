/**
 * The handshake every transport admits through, built for the server: the server says whether it is
 * accepting (running, not draining or stopping), the hub whether a user is at its connection cap, and the
 * event-loop delay monitor whether the node is saturated (admission control, docs/operations.md).
 */
import type { Authenticator } from './auth/authenticator.js';
import type { ConnectionLimits } from './limits/connection-limits.js';
import { LoopDelayMonitor } from './limits/loop-delay.js';
import type { Metrics } from './metrics/metrics.js';
import { ProcessHealth } from './metrics/process-health.js';
import type { HealthOptions } from './metrics/process-health.js';
import type { ServerOptions } from './server-options.js';
import type { TrustedProxies } from './transports/client-ip.js';
import { Handshake } from './transports/handshake.js';
import { OriginPolicy } from './transports/origin.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/logger.js';

/** What the server hands the handshake. */
export interface HandshakeParts {
  accepting(): boolean;
  userAtLimit(userId: string): boolean;
  readonly authenticator: Authenticator;
  readonly trustedProxies: TrustedProxies;
  readonly connectionLimits: ConnectionLimits;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** The server's handshake: `options` give the origin policy, `loopDelay` the saturation check. */
export function createHandshake(
  options: ServerOptions,
  loopDelay: LoopDelayMonitor,
  parts: HandshakeParts,
): Handshake {
  const { clock } = parts;
  return new Handshake({
    host: {
      accepting: () => parts.accepting(),
      userAtLimit: (userId) => parts.userAtLimit(userId),
      saturated: () => loopDelay.saturated(clock.now()),
    },
    authenticator: parts.authenticator,
    origins: new OriginPolicy(options.allowedOrigins, options.requireOrigin ?? false),
    trustedProxies: parts.trustedProxies,
    connectionLimits: parts.connectionLimits,
    metrics: parts.metrics,
    logger: parts.logger,
    clock,
  });
}

/**
 * The process's own watches, started and stopped with the server: the event-loop delay admission control
 * reads, and /health's event-loop and memory checks.
 */
export class ProcessMonitors {
  readonly loopDelay: LoopDelayMonitor;
  readonly health: ProcessHealth;

  constructor(limits: { admissionLoopDelayMs: number }, health: HealthOptions | undefined, clock: Clock) {
    this.loopDelay = new LoopDelayMonitor(limits.admissionLoopDelayMs);
    this.health = new ProcessHealth(health ?? {}, clock);
  }

  start(now: number): void {
    this.loopDelay.start(now);
    this.health.start();
  }

  stop(): void {
    this.loopDelay.stop();
    this.health.stop();
  }
}
