/**
 * How an option row reads to people: what its value must look like, its default, its flag and the kind of
 * value it takes, in the words error messages, `--help` and docs/configuration.md share.
 */
import type { OptionSpec } from './option-spec.js';

/** What a value must look like, in the words error messages, `--help` and the docs share. */
export function describeAllowed(spec: OptionSpec): string {
  switch (spec.type) {
    case 'number': {
      const { min, max, integer } = spec.bounds;
      return `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
    }
    case 'boolean':
      return 'true or false (also 1 or 0)';
    case 'choice':
      return `one of ${spec.choices.join(', ')}`;
    case 'string':
      return spec.allowed;
    case 'list':
      return `a comma-separated list, each entry ${spec.allowed}`;
  }
}

/** The default as text (`8080`, `true`, `every interface`). */
export function describeDefault(spec: OptionSpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  return String(spec.default);
}

/** The flag as `--help` shows it: `--[no-]demo`, `--port <port>`, `--heartbeat-interval-ms <ms>`, or `(none)`. */
export function describeFlag(spec: OptionSpec): string {
  if (spec.flag === null) return '(none)';
  if (spec.type === 'boolean') return `--[no-]${spec.flag.slice(2)}`;
  return `${spec.flag} <${valueName(spec)}>`;
}

/**
 * What kind of value an option takes, as `--help` and the docs name it: `ms`, `bytes`, `int`, `number`,
 * `port`, `level`, `list`, `path`, `url`, `host`..., or `on/off` for a boolean.
 */
export function valueName(spec: OptionSpec): string {
  switch (spec.type) {
    case 'boolean':
      return 'on/off';
    case 'choice':
      return spec.placeholder;
    case 'list':
      return 'list';
    case 'number':
      if (spec.name === 'port') return 'port';
      if (spec.name.endsWith('Ms')) return 'ms';
      if (spec.name.endsWith('Bytes')) return 'bytes';
      return spec.bounds.integer ? 'int' : 'number';
    case 'string':
      if (spec.valueName !== undefined) return spec.valueName;
      if (spec.path === true) return 'path';
      if (spec.name.endsWith('Ms')) return 'ms';
      if (spec.name.endsWith('Url')) return 'url';
      return 'string';
  }
}
