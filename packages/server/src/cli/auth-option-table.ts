/**
 * The `switchboard` options of JWT authentication, `createServer({ auth })`: rows of the option table
 * (option-table.ts), kept apart because they are many and change with the auth code, not with the rest.
 */
import { AUTH_LIMIT_BOUNDS, DEFAULT_AUTH_LIMITS, MIN_SECRET_BYTES } from '../auth/auth-options.js';
import type { OptionSpec } from './option-spec.js';

/** JWT authentication (docs/security-auth.md). Any of them turns it on, and then a key source is required. */
export const AUTH_OPTIONS: readonly OptionSpec[] = [
  {
    type: 'string',
    name: 'auth.secret',
    group: 'auth',
    // No flag, like the API key: a command line is readable by every local user.
    flag: null,
    env: 'SWITCHBOARD_JWT_SECRET',
    default: undefined,
    defaultText: 'none',
    allowed: `a secret of at least ${MIN_SECRET_BYTES} bytes`,
    secret: true,
    description:
      'Verify HS256/HS384/HS512 tokens with this secret and require a token on every connection; no flag.',
  },
  {
    type: 'string',
    name: 'auth.secretFile',
    group: 'auth',
    flag: '--jwt-secret-file',
    env: 'SWITCHBOARD_JWT_SECRET_FILE',
    default: undefined,
    defaultText: 'none',
    allowed: 'a readable file',
    cliOnly: true,
    path: true,
    description:
      'Read the JWT secret from this file (surrounding whitespace trimmed), e.g. a mounted secret.',
  },
  {
    type: 'string',
    name: 'auth.publicKeyFile',
    group: 'auth',
    flag: '--jwt-public-key-file',
    env: 'SWITCHBOARD_JWT_PUBLIC_KEY_FILE',
    default: undefined,
    defaultText: 'none',
    allowed: 'a PEM public key file (RSA of 2048 bits or more, EC P-256/384/521, Ed25519)',
    cliOnly: true,
    path: true,
    description:
      'Verify RS*/PS*, ES* or EdDSA tokens with this public key (`auth.publicKey` holds its text).',
  },
  {
    type: 'string',
    name: 'auth.jwksUrl',
    group: 'auth',
    flag: '--jwt-jwks-url',
    env: 'SWITCHBOARD_JWT_JWKS_URL',
    default: undefined,
    defaultText: 'none',
    allowed: 'an https URL (http only for localhost, 127.0.0.1 or [::1])',
    description:
      "Verify tokens with the identity provider's JSON Web Key Set, cached and refetched for unknown key ids.",
  },
  {
    type: 'string',
    name: 'auth.audience',
    group: 'auth',
    flag: '--jwt-audience',
    env: 'SWITCHBOARD_JWT_AUDIENCE',
    default: undefined,
    defaultText: 'not checked',
    allowed: 'a comma-separated list',
    valueName: 'list',
    description:
      'Accepted `aud` values (one must match); set it whenever the identity provider serves other services.',
  },
  {
    type: 'string',
    name: 'auth.issuer',
    group: 'auth',
    flag: '--jwt-issuer',
    env: 'SWITCHBOARD_JWT_ISSUER',
    default: undefined,
    defaultText: 'not checked',
    allowed: 'a comma-separated list',
    valueName: 'list',
    description: 'Accepted `iss` values (one must match).',
  },
  {
    type: 'string',
    name: 'auth.algorithms',
    group: 'auth',
    flag: '--jwt-algorithms',
    env: 'SWITCHBOARD_JWT_ALGORITHMS',
    default: undefined,
    defaultText: "every algorithm of the key's type",
    allowed: 'a comma-separated subset of the algorithms the key can verify (never none)',
    valueName: 'list',
    description: 'Accepted `alg` values, e.g. `RS256`.',
  },
  {
    type: 'string',
    name: 'auth.clockSkewMs',
    group: 'auth',
    flag: '--jwt-clock-skew-ms',
    env: 'SWITCHBOARD_JWT_CLOCK_SKEW_MS',
    default: undefined,
    defaultText: String(DEFAULT_AUTH_LIMITS.clockSkewMs),
    allowed: `an integer from ${AUTH_LIMIT_BOUNDS.clockSkewMs.min} to ${AUTH_LIMIT_BOUNDS.clockSkewMs.max}`,
    description: 'Tolerance when checking `exp` and `nbf` (ms).',
  },
  {
    type: 'boolean',
    name: 'auth.allowAnonymous',
    group: 'auth',
    flag: '--allow-anonymous',
    env: 'SWITCHBOARD_ALLOW_ANONYMOUS',
    default: false,
    description:
      'With JWT auth, accept connections that present no credentials as anonymous (invalid ones are still refused).',
  },
  {
    type: 'boolean',
    name: 'auth.firstMessageAuth',
    group: 'auth',
    flag: '--first-message-auth',
    env: 'SWITCHBOARD_FIRST_MESSAGE_AUTH',
    default: true,
    description:
      'With JWT auth, let a connection without credentials send `{"type":"auth","token":...}` first; off: 401.',
  },
  {
    type: 'boolean',
    name: 'auth.queryToken',
    group: 'auth',
    flag: '--query-token',
    env: 'SWITCHBOARD_QUERY_TOKEN',
    default: true,
    description: 'With JWT auth, accept `?token=` on the WebSocket URL (a last resort: URLs end up in logs).',
  },
  {
    type: 'string',
    name: 'auth.ticketTtlMs',
    group: 'auth',
    flag: '--ticket-ttl-ms',
    env: 'SWITCHBOARD_TICKET_TTL_MS',
    default: undefined,
    defaultText: String(DEFAULT_AUTH_LIMITS.ticketTtlMs),
    allowed: `an integer from ${AUTH_LIMIT_BOUNDS.ticketTtlMs.min} to ${AUTH_LIMIT_BOUNDS.ticketTtlMs.max}`,
    description: 'How long a one-time ticket from `POST <base>/auth/ticket` may be redeemed (ms).',
  },
];
