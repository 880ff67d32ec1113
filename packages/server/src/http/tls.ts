/**
 * Serving https and wss straight from PEM files, and swapping the certificate without a restart. Node's
 * `server.setSecureContext()` replaces the context only for handshakes that start afterwards, so open
 * connections keep the certificate they were accepted with and nothing is dropped by a renewal.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { SecureContextOptions } from 'node:tls';
import { TlsLoadError } from '../errors.js';
import { createHttp2Server } from './http2-server.js';

/** The files Switchboard serves https/wss from; all PEM, all re-read by `reloadTls()`. */
export interface TlsOptions {
  /** The certificate, leaf first, optionally followed by its intermediates (a `fullchain.pem`). Required. */
  readonly certFile: string;
  /** The unencrypted private key of that certificate. Required. */
  readonly keyFile: string;
  /**
   * Intermediate CA certificates to send after the leaf, for when `certFile` holds the leaf alone.
   * Default: none (send what `certFile` holds).
   */
  readonly caFile?: string;
}

/** What the logs say about a loaded certificate: enough to tell which one is served, never the key. */
export interface CertificateInfo {
  readonly certFile: string;
  readonly subject: string;
  readonly issuer: string;
  /** SHA-256 fingerprint, as `openssl x509 -fingerprint -sha256` and browsers show it. */
  readonly fingerprint256: string;
  /** Expiry, ISO 8601. */
  readonly validTo: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The https server Switchboard owns when given `tls`, and the files its certificate comes from. */
export class TlsCertificate {
  /** Created without a certificate: `reload()` installs one before the server listens. */
  readonly server: HttpsServer;
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * @param serverOptions options for `https.createServer` (the HTTP deadlines and their sweep interval).
   * @param http2 serve HTTP/2 and HTTP/1.1 (by ALPN) instead of HTTP/1.1 only (http/http2-server.ts).
   */
  constructor(
    readonly files: TlsOptions,
    serverOptions: HttpsServerOptions = {},
    http2 = false,
  ) {
    this.server = http2 ? createHttp2Server(serverOptions) : createHttpsServer(serverOptions);
  }

  /**
   * Read and check the files, then install them for new handshakes. Rejects with {@link TlsLoadError}
   * before touching the server, so a missing or bad file leaves the previous certificate in place.
   * Calls run one after another: with two quick SIGHUPs, the later read is the one that stays.
   */
  reload(): Promise<CertificateInfo> {
    const run = this.queue.then(() => this.load());
    this.queue = run.catch(() => {});
    return run;
  }

  private async load(): Promise<CertificateInfo> {
    const { certFile, keyFile, caFile } = this.files;
    const [certPem, keyPem, caPem] = await Promise.all([
      readPem(certFile, 'certificate'),
      readPem(keyFile, 'key'),
      caFile === undefined ? undefined : readPem(caFile, 'CA'),
    ]);
    const chain = parseCertificates(certPem, certFile, 'certificate');
    if (caPem !== undefined && caFile !== undefined) parseCertificates(caPem, caFile, 'CA');
    const leaf = chain[0] as X509Certificate;
    const key = parseKey(keyPem, keyFile);
    if (!leaf.checkPrivateKey(key)) {
      throw new TlsLoadError(`TLS key file ${keyFile} does not match the certificate in ${certFile}`);
    }
    const context: SecureContextOptions = {
      cert: certPem,
      key: keyPem,
      ...(caPem === undefined ? {} : { ca: caPem }),
    };
    try {
      // setSecureContext() assigns some fields of the server before it builds the context; building it
      // here first means a context OpenSSL refuses never leaves the server half-updated.
      createSecureContext(context);
    } catch (error) {
      throw new TlsLoadError(`TLS files ${certFile} and ${keyFile} were refused: ${reason(error)}`, {
        cause: error,
      });
    }
    this.server.setSecureContext(context);
    return {
      certFile,
      subject: leaf.subject,
      issuer: leaf.issuer,
      fingerprint256: leaf.fingerprint256,
      validTo: new Date(leaf.validTo).toISOString(),
    };
  }
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new TlsLoadError(`cannot read TLS ${what} file ${path}: ${reason(error)}`, { cause: error });
  }
}

/** Every certificate of a PEM bundle, checked one by one: OpenSSL would silently skip a bad CA entry. */
function parseCertificates(pem: string, path: string, what: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new TlsLoadError(`TLS ${what} file ${path} holds no PEM certificate`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new TlsLoadError(
        `certificate ${i + 1} in TLS ${what} file ${path} is invalid: ${reason(error)}`,
        {
          cause: error,
        },
      );
    }
  });
}

function parseKey(pem: string, path: string): KeyObject {
  // OpenSSL reports a missing passphrase as "interrupted or cancelled"; say what is actually wrong.
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw new TlsLoadError(
      `TLS key file ${path} is encrypted: use an unencrypted key and protect the file with permissions`,
    );
  }
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new TlsLoadError(`TLS key file ${path} holds no usable private key: ${reason(error)}`, {
      cause: error,
    });
  }
}

/** `ENOENT: no such file or directory, open '/x'` -> `ENOENT: no such file or directory`. */
function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split(', open ')[0] ?? message;
}
