/**
 * The delivery rows of the option table (delivery-option-table.ts) -> `createServer({ inbox, queues,
 * postgres })`. Pure, like the rest of the parser.
 */
import { InvalidOptionError } from '../errors.js';
import type { DeliveryStoreKind, InboxOptions, QueueOptions } from '../hub/guaranteed-config.js';
import type { PostgresOptions } from '../server-stores.js';
import type {
  ChoiceOption,
  DeliveryNumberName,
  NumberOption,
  OptionSpec,
  StringOption,
} from './option-spec.js';

/** A value and where it came from (the parser's own record). */
interface Found {
  readonly raw: string;
  readonly source: string;
}

/** What the delivery rows set. */
export interface DeliverySettings {
  readonly inbox: InboxOptions;
  readonly queues: QueueOptions;
  readonly postgres?: PostgresOptions;
}

const STORES: readonly DeliveryStoreKind[] = ['memory', 'redis', 'postgres'];

/** The number rows this file takes (the rest of the parser never sees them). */
const DELIVERY_NUMBERS: readonly DeliveryNumberName[] = [
  'inbox.ttlMs',
  'inbox.maxAttempts',
  'inbox.ackTimeoutMs',
  'inbox.retryMinMs',
  'inbox.retryMaxMs',
  'inbox.sweepMs',
  'inbox.limits.maxMessages',
  'inbox.limits.maxBytes',
  'queues.ackTimeoutMs',
  'queues.maxAttempts',
  'queues.pollMs',
];
const POSTGRES_URL = /^postgres(ql)?:\/\/\S+$/;

/** Remove the delivery values from the parser's records and build the options from them. */
export function takeDeliveryOptions(
  numbers: Partial<Record<NumberOption['name'], number>>,
  strings: Partial<Record<StringOption['name'], string>>,
  whenFull: ChoiceOption['default'] | undefined,
  found: ReadonlyMap<OptionSpec['name'], Found>,
  redis: boolean,
): DeliverySettings {
  const store = strings['deliveryStore'];
  const url = strings['postgres.url'];
  delete strings['deliveryStore'];
  delete strings['postgres.url'];
  // The retry bounds only when given: a default max below a larger given min would be refused.
  const given = (name: NumberOption['name']): number | undefined =>
    found.has(name) ? numbers[name] : undefined;
  const inbox = {
    ttlMs: numbers['inbox.ttlMs'],
    maxAttempts: numbers['inbox.maxAttempts'],
    ackTimeoutMs: numbers['inbox.ackTimeoutMs'],
    retryMinMs: given('inbox.retryMinMs'),
    retryMaxMs: given('inbox.retryMaxMs'),
    sweepMs: numbers['inbox.sweepMs'],
  };
  const limits = {
    maxMessages: numbers['inbox.limits.maxMessages'],
    maxBytes: numbers['inbox.limits.maxBytes'],
  };
  const queues = {
    ackTimeoutMs: numbers['queues.ackTimeoutMs'],
    maxAttempts: numbers['queues.maxAttempts'],
    pollMs: numbers['queues.pollMs'],
  };
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the names are the fixed list above
  for (const name of DELIVERY_NUMBERS) delete numbers[name];
  const kind = storeKind(store, found);
  if (kind === 'redis' && !redis)
    throw new InvalidOptionError(
      found.get('deliveryStore')?.source ?? '--delivery-store',
      store,
      'redis only with --redis-url',
    );
  if (kind === 'postgres' && url === undefined)
    throw new InvalidOptionError(
      found.get('deliveryStore')?.source ?? '--delivery-store',
      store,
      'postgres only with --postgres-url / SWITCHBOARD_POSTGRES_URL',
    );
  if (url !== undefined && !POSTGRES_URL.test(url))
    throw new InvalidOptionError(
      found.get('postgres.url')?.source ?? '--postgres-url',
      '<redacted>',
      'a postgres:// or postgresql:// URL',
    );
  return {
    inbox: {
      ...(kind === undefined ? {} : { store: kind }),
      ...defined(inbox),
      limits: defined({
        ...limits,
        ...(whenFull === 'reject' || whenFull === 'dead-letter-oldest' ? { whenFull } : {}),
      }),
    },
    queues: { ...(kind === undefined ? {} : { store: kind }), ...defined(queues) },
    ...(url === undefined ? {} : { postgres: { url } }),
  };
}

function storeKind(
  value: string | undefined,
  found: ReadonlyMap<OptionSpec['name'], Found>,
): DeliveryStoreKind | undefined {
  if (value === undefined) return undefined;
  if (!(STORES as readonly string[]).includes(value))
    throw new InvalidOptionError(
      found.get('deliveryStore')?.source ?? '--delivery-store',
      value,
      'memory, redis or postgres',
    );
  return value as DeliveryStoreKind;
}

/** `record` without its undefined entries. */
function defined<T extends Record<string, unknown>>(
  record: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
