/**
 * The client's side of the heartbeat (docs/protocol.md, "Heartbeats"), as pure logic over times: the
 * client feeds it the time of every received frame and asks it what to do when its timer fires.
 *
 * - Nothing received for 1.5 x `interval`: send a `ping` command with an id. The server pings only
 *   connections it has not heard from, so a chatty client may receive nothing for a long time; its ping's
 *   reply proves the server alive. Half an interval of slack keeps an idle client from racing the server's
 *   own ping, which arrives about once per interval.
 * - Nothing received for `timeout`: the server, or the path to it, is dead.
 */
import type { HeartbeatSettings } from '@switchboard/protocol';

/** What the client should do now: nothing, send a ping command, or give the connection up. */
export type HeartbeatAction = 'none' | 'ping' | 'dead';

/** Tracks silence from the server on one connection. */
export class HeartbeatMonitor {
  private lastReceived: number;
  private pinged = false;
  private readonly pingAfter: number;

  constructor(
    private readonly settings: HeartbeatSettings,
    now: number,
  ) {
    this.lastReceived = now;
    this.pingAfter = Math.min(settings.interval * 1.5, settings.timeout);
  }

  /** Whether the announced settings are usable; a server that announces none gets no client heartbeat. */
  static usable(settings: unknown): settings is HeartbeatSettings {
    if (typeof settings !== 'object' || settings === null) return false;
    const { interval, timeout } = settings as Record<string, unknown>;
    return isPositive(interval) && isPositive(timeout) && timeout >= interval;
  }

  /** A frame arrived at `now`. Called per frame, so it only records the time. */
  received(now: number): void {
    this.lastReceived = now;
    this.pinged = false;
  }

  /** When {@link check} next has something to decide. */
  get nextCheckAt(): number {
    return this.lastReceived + (this.pinged ? this.settings.timeout : this.pingAfter);
  }

  /** Decide what to do at `now`. Answers `ping` once per silence; the caller sends the ping. */
  check(now: number): HeartbeatAction {
    const silent = now - this.lastReceived;
    if (silent >= this.settings.timeout) return 'dead';
    if (silent >= this.pingAfter && !this.pinged) {
      this.pinged = true;
      return 'ping';
    }
    return 'none';
  }
}

function isPositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}
