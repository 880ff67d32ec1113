/** Validation of the guaranteed-delivery commands (see delivery-frames.ts); called by `validateCommand`. */
import { ErrorCode } from './codes.js';
import {
  MAX_CONSUME_PREFETCH,
  MAX_DELIVERY_ID_LENGTH,
  MAX_DEVICE_ID_LENGTH,
  MAX_INBOX_PREFETCH,
  MAX_NACK_DELAY_MS,
  MAX_QUEUE_NAME_LENGTH,
} from './delivery-frames.js';
import type { DeliveryCommand } from './delivery-frames.js';

/** Characters of device ids and queue names: letters, digits and `_ - . : @`. */
const NAME_PATTERN = /^[A-Za-z0-9_\-.:@]+$/;

/** Why `value` is not a valid work-queue name, or null when it is. */
export function queueNameProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'queue must be a non-empty string';
  if (value.length > MAX_QUEUE_NAME_LENGTH)
    return `queue must be at most ${MAX_QUEUE_NAME_LENGTH} characters`;
  if (!NAME_PATTERN.test(value)) return 'queue may hold only letters, digits and _ - . : @';
  return null;
}

/** Why `value` is not a valid inbox device id, or null when it is. */
export function deviceIdProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'device must be a non-empty string';
  if (value.length > MAX_DEVICE_ID_LENGTH) return `device must be at most ${MAX_DEVICE_ID_LENGTH} characters`;
  if (!NAME_PATTERN.test(value)) return 'device may hold only letters, digits and _ - . : @';
  return null;
}

/** A failed validation: the code and message of the error reply. */
export interface DeliveryCommandProblem {
  readonly code: ErrorCode;
  readonly message: string;
}

function intIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/**
 * Validate a guaranteed-delivery command (its `type` already read); `id` is the command id. Returns the
 * command, or the problem to answer with.
 */
export function validateDeliveryCommand(
  type: DeliveryCommand['type'],
  value: Record<string, unknown>,
  id: number | undefined,
): DeliveryCommand | DeliveryCommandProblem {
  const withId = <T extends object>(command: T): T => (id === undefined ? command : { ...command, id });
  switch (type) {
    case 'inbox': {
      const device = value['device'];
      const problem = deviceIdProblem(device);
      if (problem !== null) return { code: ErrorCode.BadRequest, message: problem };
      const prefetch = value['prefetch'];
      if (prefetch !== undefined && !intIn(prefetch, 1, MAX_INBOX_PREFETCH))
        return {
          code: ErrorCode.BadRequest,
          message: `prefetch must be an integer from 1 to ${MAX_INBOX_PREFETCH}`,
        };
      return withId({ type, device: device as string, ...(prefetch === undefined ? {} : { prefetch }) });
    }
    case 'ack':
    case 'nack': {
      const message = value['message'];
      if (typeof message !== 'string' || message.length === 0 || message.length > MAX_DELIVERY_ID_LENGTH)
        return {
          code: ErrorCode.BadRequest,
          message: `message must be a non-empty string of at most ${MAX_DELIVERY_ID_LENGTH} characters`,
        };
      const queue = value['queue'];
      if (queue !== undefined) {
        const problem = queueNameProblem(queue);
        if (problem !== null) return { code: ErrorCode.InvalidQueue, message: problem };
      }
      const base = { message, ...(queue === undefined ? {} : { queue: queue as string }) };
      if (type === 'ack') return withId({ type, ...base });
      const delay = value['delay'];
      if (delay !== undefined && !intIn(delay, 0, MAX_NACK_DELAY_MS))
        return {
          code: ErrorCode.BadRequest,
          message: `delay must be an integer from 0 to ${MAX_NACK_DELAY_MS} (ms)`,
        };
      return withId({ type, ...base, ...(delay === undefined ? {} : { delay }) });
    }
    case 'consume':
    case 'cancel': {
      const queue = value['queue'];
      const problem = queueNameProblem(queue);
      if (problem !== null) return { code: ErrorCode.InvalidQueue, message: problem };
      if (type === 'cancel') return withId({ type, queue: queue as string });
      const prefetch = value['prefetch'];
      if (prefetch !== undefined && !intIn(prefetch, 1, MAX_CONSUME_PREFETCH))
        return {
          code: ErrorCode.BadRequest,
          message: `prefetch must be an integer from 1 to ${MAX_CONSUME_PREFETCH}`,
        };
      return withId({ type, queue: queue as string, ...(prefetch === undefined ? {} : { prefetch }) });
    }
  }
}
