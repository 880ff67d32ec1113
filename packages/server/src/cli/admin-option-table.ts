/**
 * The `switchboard` options of the admin dashboard, `createServer({ admin })` (docs/admin.md): rows of
 * the option table (option-table.ts); cli/admin-config.ts turns them into the option.
 */
import {
  ADMIN_OPTION_BOUNDS,
  DEFAULT_ADMIN_OPTIONS,
  MIN_ADMIN_PASSWORD_LENGTH,
} from '../admin/admin-options.js';
import type { OptionSpec } from './option-spec.js';

/** The dashboard is on when a password is given (the variable or the file). */
export const ADMIN_OPTIONS: readonly OptionSpec[] = [
  {
    type: 'string',
    name: 'admin.password',
    group: 'admin',
    // No flag, like the API key: a command line is readable by every local user.
    flag: null,
    env: 'SWITCHBOARD_ADMIN_PASSWORD',
    default: undefined,
    defaultText: 'none (dashboard off)',
    allowed: `a password of at least ${MIN_ADMIN_PASSWORD_LENGTH} characters`,
    secret: true,
    description:
      'Serve the admin dashboard at `<base>/admin`, signed in with this password (not the API key); no flag.',
  },
  {
    type: 'string',
    name: 'admin.passwordFile',
    group: 'admin',
    flag: '--admin-password-file',
    env: 'SWITCHBOARD_ADMIN_PASSWORD_FILE',
    default: undefined,
    defaultText: 'none',
    allowed: 'a readable file',
    cliOnly: true,
    path: true,
    description:
      'Read the admin password from this file (surrounding whitespace trimmed), e.g. a mounted secret.',
  },
  {
    type: 'number',
    name: 'admin.intervalMs',
    group: 'admin',
    flag: '--admin-interval-ms',
    env: 'SWITCHBOARD_ADMIN_INTERVAL_MS',
    bounds: ADMIN_OPTION_BOUNDS.intervalMs,
    default: DEFAULT_ADMIN_OPTIONS.intervalMs,
    description: 'How often each node publishes its snapshot to the dashboard (ms); only with a password.',
  },
  {
    type: 'number',
    name: 'admin.sessionTtlMs',
    group: 'admin',
    flag: '--admin-session-ttl-ms',
    env: 'SWITCHBOARD_ADMIN_SESSION_TTL_MS',
    bounds: ADMIN_OPTION_BOUNDS.sessionTtlMs,
    default: DEFAULT_ADMIN_OPTIONS.sessionTtlMs,
    description: 'How long a dashboard sign-in lasts (ms); only with a password.',
  },
];
