/**
 * The dashboard's figures that no other count of this node keeps: open connections per transport, close
 * codes since start, heartbeat evictions (4000) and slow consumers closed (4001). Fed by the same
 * calls as the Metrics seam ({@link adminMetrics}), so any Metrics implementation leaves them right.
 */
import { CloseCode } from '@switchboard/protocol';
import type { CloseInitiator, Metrics } from '../metrics/metrics.js';
import { overlayMetrics } from '../metrics/metrics-overlay.js';

/** The most distinct close codes counted (codes are 1000-4999: a bound a broken peer cannot exceed). */
const MAX_CODES = 200;

/** Counts for the admin snapshot; see the file comment. */
export class AdminTally {
  /** Connections opened and not yet reported closed, per transport. */
  readonly transports = { websocket: 0, sse: 0, polling: 0 };
  /** Connections closed by the server after a heartbeat timeout (4000). */
  heartbeatEvictions = 0;
  /** Connections closed by the server as slow consumers (4001). */
  slowConsumers = 0;
  private readonly codes = new Map<number, number>();

  /** A connection opened (Metrics.connectionOpened). */
  opened(transport: string): void {
    if (isTransport(transport)) this.transports[transport]++;
  }

  /** A connection's transport reported its end (Metrics.connectionClosed). */
  closed(transport: string, code: number, by: CloseInitiator): void {
    if (isTransport(transport)) this.transports[transport] = Math.max(0, this.transports[transport] - 1);
    if (by === 'server' && code === CloseCode.HeartbeatTimeout) this.heartbeatEvictions++;
    if (by === 'server' && code === CloseCode.SlowConsumer) this.slowConsumers++;
    const count = this.codes.get(code);
    if (count !== undefined) this.codes.set(code, count + 1);
    else if (this.codes.size < MAX_CODES) this.codes.set(code, 1);
  }

  /** Connections closed since start, by close code (whoever sent it). */
  closeCodes(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [code, count] of [...this.codes].sort((a, b) => a[0] - b[0])) out[String(code)] = count;
    return out;
  }
}

/** `base` with the connection opens and closes also counted in `tally`. */
export function adminMetrics(base: Metrics, tally: AdminTally): Metrics {
  return overlayMetrics(base, {
    connectionOpened: (transport: string) => {
      tally.opened(transport);
      base.connectionOpened(transport);
    },
    connectionClosed: (transport: string, code: number, by: CloseInitiator) => {
      tally.closed(transport, code, by);
      base.connectionClosed(transport, code, by);
    },
  });
}

function isTransport(name: string): name is keyof AdminTally['transports'] {
  return name === 'websocket' || name === 'sse' || name === 'polling';
}
