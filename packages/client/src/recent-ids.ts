/** A bounded set of recently seen ids, least recently used evicted first: the inbox's record of handled messages. */
export class RecentIds {
  /** A Map iterates in insertion order, so its first key is the least recently used. */
  private readonly ids = new Map<string, true>();

  /** At most `capacity` ids are kept (0: none). */
  constructor(readonly capacity: number) {}

  /** How many ids are kept. */
  get size(): number {
    return this.ids.size;
  }

  /** Whether `id` is kept; a hit makes it the most recently used. */
  has(id: string): boolean {
    if (!this.ids.has(id)) return false;
    this.ids.delete(id);
    this.ids.set(id, true);
    return true;
  }

  /** Keep `id` as the most recently used, evicting the least recently used beyond the capacity. */
  add(id: string): void {
    if (this.capacity === 0) return;
    this.ids.delete(id);
    this.ids.set(id, true);
    if (this.ids.size <= this.capacity) return;
    const oldest = this.ids.keys().next();
    if (oldest.done !== true) this.ids.delete(oldest.value);
  }
}
