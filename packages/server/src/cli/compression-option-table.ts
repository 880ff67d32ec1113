/**
 * The `compression.*` rows of the option table (permessage-deflate for WebSocket clients) and their
 * mapping to `createServer({ compression })`. Per-channel opt-out is a channel rule (`compress: false`
 * in the `--config` file).
 */
import {
  DEFAULT_COMPRESSION_THRESHOLD,
  MAX_COMPRESSION_THRESHOLD,
} from '../transports/permessage-deflate.js';
import type { CompressionOptions } from '../transports/permessage-deflate.js';
import type { BooleanOption, NumberOption, OptionSpec } from './option-spec.js';

/** The compression options, in the order `--help` lists them. */
export const COMPRESSION_OPTIONS: readonly OptionSpec[] = [
  {
    type: 'boolean',
    name: 'compression.enabled',
    group: 'compression',
    flag: '--compression',
    env: 'SWITCHBOARD_COMPRESSION',
    default: false,
    description:
      'Negotiate permessage-deflate (RFC 7692) with WebSocket clients that offer it (browsers, ws): frames over the threshold are compressed, a broadcast once for all its recipients, with no zlib state kept per connection. Clients that do not offer it get plain frames.',
  },
  {
    type: 'number',
    name: 'compression.thresholdBytes',
    group: 'compression',
    flag: '--compression-threshold-bytes',
    env: 'SWITCHBOARD_COMPRESSION_THRESHOLD_BYTES',
    bounds: { min: 0, max: MAX_COMPRESSION_THRESHOLD, integer: true },
    default: DEFAULT_COMPRESSION_THRESHOLD,
    description:
      'With --compression: frames shorter than this (bytes) are sent uncompressed (deflate would save a few dozen bytes and cost the client an inflate).',
  },
];

/**
 * Remove the `compression.*` values from the parser's records and build the compression option from
 * them: undefined when neither was given (`given`: the names set by a flag or a variable).
 */
export function takeCompressionOptions(
  numbers: Partial<Record<NumberOption['name'], number>>,
  booleans: Partial<Record<BooleanOption['name'], boolean>>,
  given: { has(name: string): boolean },
): CompressionOptions | undefined {
  const enabled = booleans['compression.enabled'] ?? false;
  const thresholdBytes = numbers['compression.thresholdBytes'];
  delete booleans['compression.enabled'];
  delete numbers['compression.thresholdBytes'];
  if (!given.has('compression.enabled') && !given.has('compression.thresholdBytes')) return undefined;
  return thresholdBytes === undefined ? { enabled } : { enabled, thresholdBytes };
}
