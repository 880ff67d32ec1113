/**
 * One self-signed certificate for 127.0.0.1 and localhost, made by openssl in a temp dir: enough for the
 * HTTP/2 tests, whose clients trust it directly (`ca`) or ignore it (a browser's `ignoreHTTPSErrors`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The certificate's files, its PEM text, and the function that removes them. */
export interface SelfSigned {
  readonly certFile: string;
  readonly keyFile: string;
  readonly pem: string;
  remove(): void;
}

/** Make the certificate (P-256, valid two days). Needs openssl on PATH. */
export function selfSigned(): SelfSigned {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-h2-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'pipe' },
  );
  return {
    certFile,
    keyFile,
    pem: readFileSync(certFile, 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
