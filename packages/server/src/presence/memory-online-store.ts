/** The online seam in memory: one node is the whole deployment, so its own connections are all there are. */
import type { Clock } from '../util/clock.js';
import type { OfflineClaim, OfflineTransition, OnlineStore } from './online-store.js';

interface UserState {
  connections: number;
  epoch: number;
  /** When the user's last connection closed (ms); null while online. */
  since: number | null;
}

/** Online users of one node. A user's entry lives from its first connection until its transition is claimed. */
export class MemoryOnlineStore implements OnlineStore {
  readonly shared = false;
  private readonly users = new Map<string, UserState>();
  /** One counter for every user, so a transition's number is never reused, even after its entry went. */
  private epochs = 0;

  constructor(private readonly clock: Clock) {}

  online(userId: string): Promise<void> {
    const state = this.users.get(userId);
    if (state === undefined) this.users.set(userId, { connections: 1, epoch: ++this.epochs, since: null });
    else if (++state.connections === 1) {
      state.epoch = ++this.epochs;
      state.since = null;
    }
    return Promise.resolve();
  }

  offline(userId: string): Promise<OfflineTransition | null> {
    const state = this.users.get(userId);
    if (state === undefined || state.connections === 0 || --state.connections > 0)
      return Promise.resolve(null);
    state.since = this.clock.now();
    return Promise.resolve({ userId, epoch: state.epoch, offlineForMs: 0 });
  }

  claim(userId: string, epoch: number, graceMs: number): Promise<OfflineClaim> {
    const state = this.users.get(userId);
    if (state === undefined || state.connections > 0 || state.epoch !== epoch || state.since === null)
      return Promise.resolve({ outcome: 'none' });
    const waitMs = state.since + graceMs - this.clock.now();
    if (waitMs > 0) return Promise.resolve({ outcome: 'wait', waitMs });
    this.users.delete(userId);
    return Promise.resolve({ outcome: 'fire' });
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
