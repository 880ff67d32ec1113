/**
 * A minimal typed event emitter. Not Node's EventEmitter (the SDK runs in browsers) and not EventTarget
 * (its events are objects with a fixed shape, and typing its listeners per event is clumsy).
 */

/** A listener of an event whose payload is `T`. */
export type Listener<T> = (payload: T) => void;

interface Entry<T> {
  readonly listener: Listener<T>;
  readonly once: boolean;
}

type Entries<Events> = { [K in keyof Events]?: readonly Entry<Events[K]>[] };

/** Options for {@link Emitter}. */
export interface EmitterOptions {
  /**
   * Called when a listener throws. Default: rethrow it from a microtask, so it surfaces as an uncaught
   * error (as an EventTarget listener's would) without skipping the other listeners or leaving the
   * emitter's owner half-way through a state change.
   */
  readonly onListenerError?: (error: unknown, event: PropertyKey) => void;
}

function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * Emits typed events: `Events` maps each event name to its payload type.
 *
 * Listener lists are copied on write, so `emit` iterates a stable snapshot without copying it: adding or
 * removing a listener during an emit affects the next emit only (as with EventTarget), and the common
 * path (emit per message) allocates nothing.
 */
export class Emitter<Events> {
  private readonly entries: Entries<Events> = {};
  private readonly onListenerError: (error: unknown, event: PropertyKey) => void;

  constructor(options: EmitterOptions = {}) {
    this.onListenerError = options.onListenerError ?? rethrowLater;
  }

  /** Call `listener` on every `event`; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    return this.add(event, { listener, once: false });
  }

  /** Call `listener` on the next `event` only; returns a function that removes it. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    return this.add(event, { listener, once: true });
  }

  /** Remove every registration of `listener` for `event`. */
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    const list = this.entries[event];
    if (list === undefined) return;
    const kept = list.filter((entry) => entry.listener !== listener);
    if (kept.length !== list.length) this.entries[event] = kept;
  }

  /** Call the listeners of `event` in registration order. A throwing listener does not stop the others. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.entries[event];
    if (list === undefined) return;
    for (const entry of list) {
      if (entry.once) this.removeEntry(event, entry);
      try {
        entry.listener(payload);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof Events): number {
    return this.entries[event]?.length ?? 0;
  }

  /** Register `entry`; the returned function removes this registration only, not others of the same listener. */
  private add<K extends keyof Events>(event: K, entry: Entry<Events[K]>): () => void {
    const list = this.entries[event];
    this.entries[event] = list === undefined ? [entry] : [...list, entry];
    return () => this.removeEntry(event, entry);
  }

  private removeEntry<K extends keyof Events>(event: K, entry: Entry<Events[K]>): void {
    const list = this.entries[event];
    if (list === undefined) return;
    const kept = list.filter((e) => e !== entry);
    if (kept.length !== list.length) this.entries[event] = kept;
  }
}
