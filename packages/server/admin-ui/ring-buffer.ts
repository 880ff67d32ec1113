/** A fixed-capacity FIFO that overwrites its oldest item: the page keeps a bounded history per node. */
export class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private size = 0;

  /** A buffer holding at most `capacity` items (a positive integer). */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity ${capacity} is not a positive integer`);
    this.items = new Array<T | undefined>(capacity);
  }

  /** How many items it holds. */
  get length(): number {
    return this.size;
  }

  /** Append `item`, dropping the oldest when full. */
  push(item: T): void {
    const end = (this.start + this.size) % this.capacity;
    this.items[end] = item;
    if (this.size < this.capacity) this.size++;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** The newest item, or undefined when empty. */
  last(): T | undefined {
    return this.size === 0 ? undefined : this.items[(this.start + this.size - 1) % this.capacity];
  }

  /** The items, oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.items[(this.start + i) % this.capacity] as T);
    return out;
  }

  /** Forget every item. */
  clear(): void {
    this.items.fill(undefined);
    this.start = 0;
    this.size = 0;
  }
}
