/**
 * The `auth.*` rows of the option table -> `createServer({ auth })`. Pure like the rest of the parser:
 * the secret and public key files are read through the injected function. Secrets never appear in an
 * error; a bad file is reported under the option that named it.
 */
import { InvalidOptionError } from '../errors.js';
import { AUTH_LIMIT_BOUNDS, publicKeyProblem } from '../auth/auth-options.js';
import type { AuthLimit, AuthOptions, JwtAlgorithm } from '../auth/auth-options.js';
import { OPTION_TABLE } from './option-table.js';
import type { BooleanOption, OptionSpec, StringOption } from './option-spec.js';

/** A value and where it came from (the parser's own record). */
interface Found {
  readonly raw: string;
  readonly source: string;
}

/** Read a file as UTF-8 text, throwing on failure. */
type ReadTextFile = (path: string) => string;

const REDACTED = '<redacted>';

/**
 * Remove the `auth.*` values from the parser's records and build the auth options from them; undefined
 * when none was given. Every auth setting needs a key source, so one without it is an error.
 */
export function takeAuthOptions(
  booleans: Partial<Record<BooleanOption['name'], boolean>>,
  strings: Partial<Record<StringOption['name'], string>>,
  found: Map<OptionSpec['name'], Found>,
  readTextFile: ReadTextFile,
): AuthOptions | undefined {
  const s = {
    secret: strings['auth.secret'],
    secretFile: strings['auth.secretFile'],
    publicKeyFile: strings['auth.publicKeyFile'],
    jwksUrl: strings['auth.jwksUrl'],
    audience: strings['auth.audience'],
    issuer: strings['auth.issuer'],
    algorithms: strings['auth.algorithms'],
    clockSkewMs: strings['auth.clockSkewMs'],
    ticketTtlMs: strings['auth.ticketTtlMs'],
    cookie: strings['auth.cookie'],
  };
  const b = {
    allowAnonymous: booleans['auth.allowAnonymous'],
    firstMessageAuth: booleans['auth.firstMessageAuth'],
    queryToken: booleans['auth.queryToken'],
  };
  delete strings['auth.secret'];
  delete strings['auth.secretFile'];
  delete strings['auth.publicKeyFile'];
  delete strings['auth.jwksUrl'];
  delete strings['auth.audience'];
  delete strings['auth.issuer'];
  delete strings['auth.algorithms'];
  delete strings['auth.clockSkewMs'];
  delete strings['auth.ticketTtlMs'];
  delete strings['auth.cookie'];
  delete booleans['auth.allowAnonymous'];
  delete booleans['auth.firstMessageAuth'];
  delete booleans['auth.queryToken'];
  const given = OPTION_TABLE.filter((spec) => spec.name.startsWith('auth.') && found.has(spec.name));
  if (given.length === 0) return undefined;

  const secret = resolveSecret(s.secret, s.secretFile, found, readTextFile);
  const publicKey = readPublicKey(s.publicKeyFile, found, readTextFile);
  if (secret === undefined && publicKey === undefined && s.jwksUrl === undefined) {
    const first = given[0] as OptionSpec;
    const value = found.get(first.name);
    throw new InvalidOptionError(
      value?.source ?? first.env,
      first.secret === true ? REDACTED : (value?.raw ?? ''),
      `a setting that needs a JWT key: set one of ${keyVariables()}`,
    );
  }
  const options: {
    -readonly [K in keyof AuthOptions]: AuthOptions[K];
  } = {};
  if (secret !== undefined) options.secret = secret;
  if (publicKey !== undefined) options.publicKey = publicKey;
  if (s.jwksUrl !== undefined) options.jwksUrl = s.jwksUrl;
  if (s.audience !== undefined) options.audience = list(s.audience);
  if (s.issuer !== undefined) options.issuer = list(s.issuer);
  // Checked against the key by the server's own validation, which names the variable.
  if (s.algorithms !== undefined) options.algorithms = list(s.algorithms) as JwtAlgorithm[];
  if (s.clockSkewMs !== undefined) options.clockSkewMs = integer('auth.clockSkewMs', 'clockSkewMs', found);
  if (s.ticketTtlMs !== undefined) options.ticketTtlMs = integer('auth.ticketTtlMs', 'ticketTtlMs', found);
  if (s.cookie !== undefined) options.cookie = s.cookie;
  // On/off rows always carry their default; only what the user set is passed on, so that the server's
  // own defaults (firstMessageAuth follows allowAnonymous) apply to the rest.
  for (const name of ['allowAnonymous', 'firstMessageAuth', 'queryToken'] as const) {
    const value = b[name];
    if (found.has(`auth.${name}`) && value !== undefined) options[name] = value;
  }
  return options;
}

/** The variables that set a key source, for error messages. */
function keyVariables(): string {
  const names = ['auth.secret', 'auth.secretFile', 'auth.publicKeyFile', 'auth.jwksUrl'];
  return names.map((name) => OPTION_TABLE.find((spec) => spec.name === name)?.env ?? name).join(', ');
}

function list(raw: string): string[] {
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

function integer(name: OptionSpec['name'], limit: AuthLimit, found: Map<OptionSpec['name'], Found>): number {
  const value = found.get(name) as Found;
  const { min, max } = AUTH_LIMIT_BOUNDS[limit];
  const n = Number(value.raw);
  if (!/^\d+$/.test(value.raw) || n < min || n > max)
    throw new InvalidOptionError(value.source, value.raw, `an integer from ${min} to ${max}`);
  return n;
}

function resolveSecret(
  fromEnv: string | undefined,
  path: string | undefined,
  found: Map<OptionSpec['name'], Found>,
  readTextFile: ReadTextFile,
): string | undefined {
  const file = found.get('auth.secretFile');
  if (path === undefined || file === undefined) return fromEnv;
  const direct = found.get('auth.secret');
  // Both variables set is ambiguous; the flag simply wins over the variable (flag over env).
  if (direct !== undefined && file.source !== '--jwt-secret-file') {
    throw new InvalidOptionError(
      file.source,
      path,
      `no file while ${direct.source} is set (set only one of them)`,
    );
  }
  const secret = readFile(path, file, readTextFile).trim();
  if (secret === '')
    throw new InvalidOptionError(file.source, path, 'a file holding the JWT secret (it is empty)');
  // A later complaint about the secret (too short) must name the file it came from.
  found.set('auth.secret', { raw: REDACTED, source: file.source });
  return secret;
}

function readPublicKey(
  path: string | undefined,
  found: Map<OptionSpec['name'], Found>,
  readTextFile: ReadTextFile,
): string | undefined {
  const file = found.get('auth.publicKeyFile');
  if (path === undefined || file === undefined) return undefined;
  const pem = readFile(path, file, readTextFile);
  const problem = publicKeyProblem(pem);
  if (problem !== null) throw new InvalidOptionError(file.source, path, `a file holding ${problem}`);
  return pem;
}

function readFile(path: string, file: Found, readTextFile: ReadTextFile): string {
  try {
    return readTextFile(path);
  } catch (error) {
    // "ENOENT: no such file or directory, open '/x'" -> "ENOENT: no such file or directory".
    const reason = error instanceof Error ? (error.message.split(',')[0] ?? error.message) : String(error);
    throw new InvalidOptionError(file.source, path, `a readable file (${reason})`);
  }
}
