/**
 * The webhook rows of the option table (`--webhook-url`, `--webhook-secret`, `--webhook-events`) -> one
 * `webhooks` target of createServer. More targets come from the config file. Pure, like the rest of the
 * parser; the secret never appears in a message.
 */
import { InvalidOptionError } from '../errors.js';
import { WEBHOOK_EVENTS } from '../webhooks/webhooks.js';
import type { WebhookEvent, WebhookTarget } from '../webhooks/webhooks.js';
import type { OptionSpec, StringOption } from './option-spec.js';

/** A value and where it came from (the parser's own record). */
interface Found {
  readonly raw: string;
  readonly source: string;
}

/** Remove the webhook values from the parser's strings; the target they describe, if any. */
export function takeWebhookTarget(
  strings: Partial<Record<StringOption['name'], string>>,
  found: ReadonlyMap<OptionSpec['name'], Found>,
): WebhookTarget | undefined {
  const { webhookUrl: url, webhookSecret: secret, webhookEvents: events } = strings;
  delete strings['webhookUrl'];
  delete strings['webhookSecret'];
  delete strings['webhookEvents'];
  const source = (name: OptionSpec['name'], flag: string): string => found.get(name)?.source ?? flag;
  if (url === undefined) {
    const stray = secret !== undefined ? 'webhookSecret' : events !== undefined ? 'webhookEvents' : null;
    if (stray === null) return undefined;
    const flag = stray === 'webhookSecret' ? '--webhook-secret' : '--webhook-events';
    throw new InvalidOptionError(
      source(stray, flag),
      stray === 'webhookSecret' ? '<redacted>' : (events ?? ''),
      'only with --webhook-url / SWITCHBOARD_WEBHOOK_URL',
    );
  }
  let parsed: URL | null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
    throw new InvalidOptionError(source('webhookUrl', '--webhook-url'), url, 'an http: or https: URL');
  if (secret === undefined)
    throw new InvalidOptionError(
      source('webhookUrl', '--webhook-url'),
      url,
      'a URL together with its secret (SWITCHBOARD_WEBHOOK_SECRET or --webhook-secret is not set)',
    );
  if (events === undefined) return { url, secret };
  const list = events
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const known = WEBHOOK_EVENTS as readonly string[];
  if (list.length === 0 || !list.every((event) => known.includes(event)))
    throw new InvalidOptionError(
      source('webhookEvents', '--webhook-events'),
      events,
      `a comma-separated list of ${WEBHOOK_EVENTS.join(', ')}`,
    );
  return { url, secret, events: [...new Set(list)] as WebhookEvent[] };
}
