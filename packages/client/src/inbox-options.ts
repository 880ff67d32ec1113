/** Options of the client's inbox ({@link ClientOptions.inbox}), their defaults and their validation. */
import { DEFAULT_INBOX_PREFETCH, MAX_INBOX_PREFETCH, deviceIdProblem } from '@switchboard/protocol';
import { InvalidOptionError } from './errors.js';

/** Options of `client.inbox`, the connection user's acknowledged inbox (see the README, "Inbox and work queues"). */
export interface InboxOptions {
  /**
   * This client's device id: each device of a user gets every inbox message, and the server keeps each
   * device's progress apart. 1-64 letters, digits and `_ - . : @`. Default: in a browser, a random id
   * kept in `localStorage` under `switchboard.device` (so a reload is the same device); else, or when
   * storage fails, a random id per client instance.
   */
  readonly device?: string;
  /** How many unacked messages the server may send ahead (1-100). Default 10. */
  readonly prefetch?: number;
  /**
   * Ack each message when its handlers resolve, nack it when one throws or rejects. With false the
   * application calls `msg.ack()` / `msg.nack()`, and the next message waits for it. Default true.
   */
  readonly autoAck?: boolean;
  /** How many handled message ids are remembered to recognise redeliveries (0: none). Default 10000. */
  readonly dedupeSize?: number;
}

/** Default of {@link InboxOptions.dedupeSize}. */
export const DEFAULT_INBOX_DEDUPE_SIZE = 10_000;

/** The inbox options after defaults and validation; `device` null: the default, chosen on first use. */
export interface ResolvedInboxOptions {
  readonly device: string | null;
  readonly prefetch: number;
  readonly autoAck: boolean;
  readonly dedupeSize: number;
}

/** Apply defaults and validate; throws {@link InvalidOptionError}. */
export function resolveInboxOptions(options: InboxOptions | undefined): ResolvedInboxOptions {
  if (options === undefined) {
    return {
      device: null,
      prefetch: DEFAULT_INBOX_PREFETCH,
      autoAck: true,
      dedupeSize: DEFAULT_INBOX_DEDUPE_SIZE,
    };
  }
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('inbox', options, 'an object');
  }
  const {
    device,
    prefetch = DEFAULT_INBOX_PREFETCH,
    autoAck = true,
    dedupeSize = DEFAULT_INBOX_DEDUPE_SIZE,
  } = options;
  if (device !== undefined && deviceIdProblem(device) !== null) {
    throw new InvalidOptionError('inbox.device', device, '1 to 64 letters, digits and _ - . : @');
  }
  if (!Number.isSafeInteger(prefetch) || prefetch < 1 || prefetch > MAX_INBOX_PREFETCH) {
    throw new InvalidOptionError('inbox.prefetch', prefetch, `an integer from 1 to ${MAX_INBOX_PREFETCH}`);
  }
  if (typeof autoAck !== 'boolean') throw new InvalidOptionError('inbox.autoAck', autoAck, 'true or false');
  if (!Number.isSafeInteger(dedupeSize) || dedupeSize < 0) {
    throw new InvalidOptionError('inbox.dedupeSize', dedupeSize, 'an integer from 0');
  }
  return { device: device ?? null, prefetch, autoAck, dedupeSize };
}
