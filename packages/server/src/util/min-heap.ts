/**
 * A binary min-heap ordered by a number key (ties: insertion order), for "the earliest first" queues
 * such as the in-memory inbox's expiry and undelivered scans. `compact` drops entries that no longer
 * matter in O(n), so a heap whose entries mostly die early stays bounded by the live ones.
 */
interface Slot<T> {
  readonly key: number;
  readonly order: number;
  readonly value: T;
}

/** A min-heap of values by key. */
export class MinHeap<T> {
  private slots: Slot<T>[] = [];
  private counter = 0;

  get size(): number {
    return this.slots.length;
  }

  push(key: number, value: T): void {
    this.slots.push({ key, order: this.counter++, value });
    this.up(this.slots.length - 1);
  }

  /** The smallest key's value and key, without removing it. */
  peek(): { readonly key: number; readonly value: T } | undefined {
    return this.slots[0];
  }

  pop(): T | undefined {
    const top = this.slots[0];
    const last = this.slots.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.slots.length > 0) {
      this.slots[0] = last;
      this.down(0);
    }
    return top.value;
  }

  /** Keep only the values for which `keep` is true (O(n)). */
  compact(keep: (value: T) => boolean): void {
    this.slots = this.slots.filter((slot) => keep(slot.value));
    for (let i = (this.slots.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private less(a: Slot<T>, b: Slot<T>): boolean {
    return a.key < b.key || (a.key === b.key && a.order < b.order);
  }

  private up(index: number): void {
    const slots = this.slots;
    const slot = slots[index] as Slot<T>;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const above = slots[parent] as Slot<T>;
      if (!this.less(slot, above)) break;
      slots[index] = above;
      index = parent;
    }
    slots[index] = slot;
  }

  private down(index: number): void {
    const slots = this.slots;
    const length = slots.length;
    const slot = slots[index] as Slot<T>;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      const right = child + 1;
      if (right < length && this.less(slots[right] as Slot<T>, slots[child] as Slot<T>)) child = right;
      if (!this.less(slots[child] as Slot<T>, slot)) break;
      slots[index] = slots[child] as Slot<T>;
      index = child;
    }
    slots[index] = slot;
  }
}
