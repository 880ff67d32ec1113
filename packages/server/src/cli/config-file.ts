/**
 * The JSON configuration file (`--config` / `SWITCHBOARD_CONFIG_FILE`): what a flag cannot express well,
 * namely the per-channel rules (history, presence, member limits, batch delay, permissions), the
 * default permission, and webhook targets (`webhooks`: each `{ url, secret, events? }`). Scalar options stay flags and variables, so a deployment can override them per
 * environment without editing the file.
 */
import { InvalidOptionError } from '../errors.js';
import type { ChannelRule } from '../hub/channel.js';
import type { Permission } from '../auth/authorizer.js';
import { checkWebhookTarget } from '../webhooks/webhooks.js';
import type { WebhookTarget } from '../webhooks/webhooks.js';

/** What the file may set. */
export interface ConfigFileOptions {
  readonly channels?: readonly ChannelRule[];
  readonly defaultPermission?: Permission;
  /** Webhook targets (createServer's `webhooks`); `--webhook-url` adds one more. */
  readonly webhooks?: readonly WebhookTarget[];
}

const KEYS: ReadonlySet<string> = new Set(['channels', 'defaultPermission', 'webhooks', '$schema']);
const WEBHOOK_KEYS: ReadonlySet<string> = new Set(['url', 'secret', 'events']);
const RULE_KEYS: ReadonlySet<string> = new Set([
  'pattern',
  'maxMembers',
  'history',
  'presence',
  'permissions',
  'batchDelayMs',
  'compress',
]);

/**
 * Parse and shape-check the file's text. Values are validated again, with the same messages, by
 * createServer's option validation; this only refuses what is not the right shape.
 * @param source how the user named the file (`--config path`), for messages.
 */
export function parseConfigFile(text: string, source: string): ConfigFileOptions {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidOptionError(source, '<file>', `a JSON file (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(
      source,
      '<file>',
      'a JSON object with "channels", "defaultPermission" and/or "webhooks"',
    );
  }
  const object = value as Record<string, unknown>;
  const unknown = Object.keys(object).filter((k) => !KEYS.has(k));
  if (unknown.length > 0) {
    throw new InvalidOptionError(
      `${source}: ${unknown.join(', ')}`,
      '<key>',
      'only "channels", "defaultPermission" and "webhooks"',
    );
  }
  const out: { channels?: ChannelRule[]; defaultPermission?: Permission; webhooks?: WebhookTarget[] } = {};
  if (object['webhooks'] !== undefined) out.webhooks = webhookTargets(object['webhooks'], source);
  if (object['defaultPermission'] !== undefined)
    out.defaultPermission = object['defaultPermission'] as Permission;
  const channels = object['channels'];
  if (channels !== undefined) {
    if (!Array.isArray(channels))
      throw new InvalidOptionError(`${source}: channels`, typeof channels, 'an array of rules');
    out.channels = channels.map((rule: unknown, i) => {
      if (
        typeof rule !== 'object' ||
        rule === null ||
        typeof (rule as { pattern?: unknown }).pattern !== 'string'
      ) {
        throw new InvalidOptionError(
          `${source}: channels[${i}]`,
          JSON.stringify(rule),
          'an object with a string "pattern"',
        );
      }
      const extra = Object.keys(rule).filter((k) => !RULE_KEYS.has(k));
      if (extra.length > 0) {
        throw new InvalidOptionError(
          `${source}: channels[${i}].${extra.join(', ')}`,
          '<key>',
          [...RULE_KEYS].join(', '),
        );
      }
      return rule as ChannelRule;
    });
  }
  return out;
}

/** Check `webhooks` with createServer's own rules (a secret is never echoed). */
function webhookTargets(value: unknown, source: string): WebhookTarget[] {
  if (!Array.isArray(value))
    throw new InvalidOptionError(`${source}: webhooks`, typeof value, 'an array of { url, secret, events? }');
  return value.map((target: unknown, i) => {
    const t = target as Record<string, unknown> | null;
    if (
      typeof t !== 'object' ||
      t === null ||
      Array.isArray(t) ||
      typeof t['url'] !== 'string' ||
      typeof t['secret'] !== 'string'
    ) {
      throw new InvalidOptionError(
        `${source}: webhooks[${i}]`,
        '<target>',
        'an object with a string "url" and a string "secret"',
      );
    }
    const extra = Object.keys(t).filter((k) => !WEBHOOK_KEYS.has(k));
    if (extra.length > 0) {
      throw new InvalidOptionError(
        `${source}: webhooks[${i}].${extra.join(', ')}`,
        '<key>',
        [...WEBHOOK_KEYS].join(', '),
      );
    }
    try {
      return checkWebhookTarget(t as unknown as WebhookTarget, i);
    } catch (error) {
      if (!(error instanceof InvalidOptionError)) throw error;
      throw new InvalidOptionError(`${source}: ${error.option}`, error.value, error.allowed);
    }
  });
}
