/**
 * The `admin` option (the dashboard at `<base>/admin`, docs/admin.md): its defaults, bounds and
 * validation, in a module of its own so that the CLI's option table can state them.
 */
import { InvalidOptionError } from '../errors.js';

/** Options of the admin dashboard. */
export interface AdminOptions {
  /** The dashboard's own credential (not the API key): at least 12 characters. */
  readonly password: string;
  /** How long a sign-in lasts (ms). Default 8 hours; from 1 minute to 30 days. */
  readonly sessionTtlMs?: number;
  /** How often each node publishes its snapshot to `$admin:nodes` (ms). Default 2000; from 100 to 60000. */
  readonly intervalMs?: number;
}

/** {@link AdminOptions} with every default filled in. */
export interface ResolvedAdminOptions {
  readonly password: string;
  readonly sessionTtlMs: number;
  readonly intervalMs: number;
}

/** The shortest admin password. */
export const MIN_ADMIN_PASSWORD_LENGTH = 12;

/** Defaults of the numeric admin options. */
export const DEFAULT_ADMIN_OPTIONS = { sessionTtlMs: 8 * 3_600_000, intervalMs: 2000 } as const;

/** Bounds of the numeric admin options (inclusive, integers). */
export const ADMIN_OPTION_BOUNDS = {
  sessionTtlMs: { min: 60_000, max: 30 * 86_400_000, integer: true },
  intervalMs: { min: 100, max: 60_000, integer: true },
} as const;

/** Validate `admin` and fill in its defaults; null when the dashboard is off. Throws InvalidOptionError. */
export function resolveAdminOptions(admin: AdminOptions | undefined): ResolvedAdminOptions | null {
  if (admin === undefined) return null;
  if (typeof admin !== 'object' || admin === null)
    throw new InvalidOptionError('admin', String(admin), 'an object with a password');
  if (typeof admin.password !== 'string' || admin.password.length < MIN_ADMIN_PASSWORD_LENGTH)
    throw new InvalidOptionError(
      'admin.password',
      '<redacted>',
      `a password of at least ${MIN_ADMIN_PASSWORD_LENGTH} characters`,
    );
  const number = (name: keyof typeof ADMIN_OPTION_BOUNDS): number => {
    const value = admin[name] ?? DEFAULT_ADMIN_OPTIONS[name];
    const { min, max } = ADMIN_OPTION_BOUNDS[name];
    if (!Number.isInteger(value) || value < min || value > max)
      throw new InvalidOptionError(`admin.${name}`, value, `an integer from ${min} to ${max}`);
    return value;
  };
  return { password: admin.password, sessionTtlMs: number('sessionTtlMs'), intervalMs: number('intervalMs') };
}
