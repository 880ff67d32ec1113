/** The version `switchboard --version` prints: the server package's own. */
import { readFileSync } from 'node:fs';

/** The `version` of packages/server/package.json (the same path from src/cli and dist/cli). */
export function readVersion(): string {
  const manifest: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  if (
    typeof manifest === 'object' &&
    manifest !== null &&
    'version' in manifest &&
    typeof manifest.version === 'string'
  ) {
    return manifest.version;
  }
  throw new Error('packages/server/package.json has no version');
}
