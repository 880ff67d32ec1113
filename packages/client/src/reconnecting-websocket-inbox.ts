/**
 * One async iterator over the messages of a {@link ReconnectingWebSocket}. A WebSocket cannot push back
 * on its sender (browsers have no way to pause reading), so a consumer slower than the stream must lose
 * something. The inbox keeps the newest `capacity` messages and discards the oldest, like the send
 * queue's default, and does not lose silently: the next message handed out carries `missed`, the number
 * discarded right before it, at the spot where the gap is.
 */
import type { ReceivedMessage, IteratedMessage } from './reconnecting-websocket-events.js';
import { SendQueue } from './send-queue.js';

type Waiter = (result: IteratorResult<IteratedMessage, undefined>) => void;

const DONE: IteratorResult<IteratedMessage, undefined> = { done: true, value: undefined };

/** A bounded buffer of received messages, read as an async iterator. */
export class MessageInbox implements AsyncIterableIterator<IteratedMessage, undefined, undefined> {
  /** The bounded FIFO and its drop-oldest policy are the send queue's; times play no part here. */
  private readonly buffer: SendQueue<ReceivedMessage>;
  /** Discarded since the last message handed out; drop-oldest discards at the front, so right before it. */
  private missed = 0;
  private readonly waiters: Waiter[] = [];
  private ended = false;

  /** `onReturn` runs once when the consumer stops early (`break` in a `for await`). */
  constructor(
    capacity: number,
    private readonly onReturn: (inbox: MessageInbox) => void,
  ) {
    this.buffer = new SendQueue({
      maxItems: capacity,
      onDrop: (dropped) => {
        this.missed += dropped.length;
      },
    });
  }

  /** A message arrived. */
  push(message: ReceivedMessage): void {
    if (this.ended) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter({ done: false, value: { ...message, missed: 0 } });
    else this.buffer.push(message, 0);
  }

  /** No more messages will arrive: the buffered ones are still handed out, then iteration ends. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const waiter of this.waiters.splice(0)) waiter(DONE);
  }

  next(): Promise<IteratorResult<IteratedMessage, undefined>> {
    const message = this.buffer.shift(0);
    if (message !== undefined) {
      const missed = this.missed;
      this.missed = 0;
      return Promise.resolve({ done: false, value: { ...message, missed } });
    }
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The consumer stopped: forget the buffer and detach. */
  return(): Promise<IteratorResult<IteratedMessage, undefined>> {
    if (!this.ended) {
      this.end();
      this.onReturn(this);
    }
    this.buffer.clear();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
