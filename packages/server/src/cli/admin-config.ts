/**
 * The `admin.*` rows of the option table (admin-option-table.ts) -> `createServer({ admin })`. Pure like
 * the rest of the parser: the password file is read through the injected function, and the password never
 * appears in an error.
 */
import type { AdminOptions } from '../admin/admin-options.js';
import { InvalidOptionError } from '../errors.js';
import type { NumberOption, OptionSpec, StringOption } from './option-spec.js';

/** A value and where it came from (the parser's own record). */
interface Found {
  readonly raw: string;
  readonly source: string;
}

/** Read a file as UTF-8 text, throwing on failure. */
type ReadTextFile = (path: string) => string;

/** Remove the admin values from the parser's records; the `admin` option when a password was given. */
export function takeAdminOptions(
  numbers: Partial<Record<NumberOption['name'], number>>,
  strings: Partial<Record<StringOption['name'], string>>,
  found: Map<OptionSpec['name'], Found>,
  readTextFile: ReadTextFile,
): { admin?: AdminOptions } {
  const fromEnv = strings['admin.password'];
  const path = strings['admin.passwordFile'];
  const intervalMs = numbers['admin.intervalMs'];
  const sessionTtlMs = numbers['admin.sessionTtlMs'];
  delete strings['admin.password'];
  delete strings['admin.passwordFile'];
  delete numbers['admin.intervalMs'];
  delete numbers['admin.sessionTtlMs'];
  const password = path === undefined ? fromEnv : readPassword(path, found, readTextFile);
  if (password === undefined) {
    const stray = found.get('admin.intervalMs') ?? found.get('admin.sessionTtlMs');
    if (stray !== undefined)
      throw new InvalidOptionError(
        stray.source,
        stray.raw,
        'a setting of the admin dashboard, which is off: set SWITCHBOARD_ADMIN_PASSWORD or --admin-password-file',
      );
    return {};
  }
  return {
    admin: {
      password,
      ...(intervalMs === undefined ? {} : { intervalMs }),
      ...(sessionTtlMs === undefined ? {} : { sessionTtlMs }),
    },
  };
}

function readPassword(
  path: string,
  found: Map<OptionSpec['name'], Found>,
  readTextFile: ReadTextFile,
): string {
  const file = found.get('admin.passwordFile') as Found;
  const direct = found.get('admin.password');
  // Both variables set is ambiguous; the flag simply wins over the variable (flag over env).
  if (direct !== undefined && file.source !== '--admin-password-file')
    throw new InvalidOptionError(
      file.source,
      path,
      `no file while ${direct.source} is set (set only one of them)`,
    );
  let text: string;
  try {
    text = readTextFile(path);
  } catch (error) {
    // "ENOENT: no such file or directory, open '/x'" -> "ENOENT: no such file or directory".
    const reason = error instanceof Error ? (error.message.split(',')[0] ?? error.message) : String(error);
    throw new InvalidOptionError(file.source, path, `a readable file (${reason})`);
  }
  const password = text.trim();
  if (password === '')
    throw new InvalidOptionError(file.source, path, 'a file holding the admin password (it is empty)');
  // A later complaint about the password (too short) must name the file it came from.
  found.set('admin.password', { raw: '<redacted>', source: file.source });
  return password;
}
