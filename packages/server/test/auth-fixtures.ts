/**
 * Keys and tokens for the authentication tests: real jose-signed JWTs made with keys generated per run,
 * a JWKS served from a local HTTP server on port 0, and a clock that can be moved forward.
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeyObject } from 'node:crypto';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import WebSocket from 'ws';
import type { ClientOptions } from 'ws';
import { systemClock } from '../src/index.js';
import type { Clock } from '../src/index.js';
import { TestClient } from './helpers.js';
import type { CloseEvent } from './helpers.js';

/** An HMAC secret of 48 bytes. */
export const SECRET = 'switchboard-test-secret-0123456789-abcdefghijklm';

/** The audience and issuer the test servers require. */
export const AUDIENCE = 'switchboard';
export const ISSUER = 'https://issuer.test';

/** Seconds since the epoch, offset by `seconds`. */
export function epoch(seconds = 0): number {
  return Math.floor(Date.now() / 1000) + seconds;
}

/** What a test token says; anything left out gets a sensible valid default. */
export interface TokenSpec {
  readonly sub?: string | null;
  /** Seconds from now; null leaves `exp` out. Default 3600. */
  readonly expIn?: number | null;
  /** Seconds from now. Default: no nbf. */
  readonly nbfIn?: number;
  /** Default AUDIENCE; null leaves `aud` out. */
  readonly aud?: string | null;
  /** Default ISSUER; null leaves `iss` out. */
  readonly iss?: string | null;
  readonly alg?: string;
  readonly kid?: string;
  readonly claims?: JWTPayload;
}

/** Sign a token with `key` (an HMAC secret as bytes, or a private key). */
export async function sign(key: Uint8Array | CryptoKey | KeyObject, spec: TokenSpec = {}): Promise<string> {
  const jwt = new SignJWT({ ...spec.claims });
  jwt.setProtectedHeader({
    alg: spec.alg ?? 'HS256',
    typ: 'JWT',
    ...(spec.kid === undefined ? {} : { kid: spec.kid }),
  });
  const sub = spec.sub === undefined ? 'alice' : spec.sub;
  if (sub !== null) jwt.setSubject(sub);
  const expIn = spec.expIn === undefined ? 3600 : spec.expIn;
  if (expIn !== null) jwt.setExpirationTime(epoch(expIn));
  if (spec.nbfIn !== undefined) jwt.setNotBefore(epoch(spec.nbfIn));
  const aud = spec.aud === undefined ? AUDIENCE : spec.aud;
  if (aud !== null) jwt.setAudience(aud);
  const iss = spec.iss === undefined ? ISSUER : spec.iss;
  if (iss !== null) jwt.setIssuer(iss);
  jwt.setIssuedAt();
  return jwt.sign(key);
}

/** The secret as jose wants it. */
export const secretKey = (secret = SECRET): Uint8Array => new TextEncoder().encode(secret);

/** A token signed with {@link SECRET}. */
export function hsToken(spec: TokenSpec = {}): Promise<string> {
  return sign(secretKey(), spec);
}

/** An unsecured token (`alg: none`, empty signature), which must never be accepted. */
export function noneToken(sub = 'alice'): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub, exp: epoch(3600), aud: AUDIENCE, iss: ISSUER })}.`;
}

/** A generated key pair with its public half as PEM and JWK. */
export interface TestKeyPair {
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicPem: string;
  readonly jwk: JWK;
}

/** Generate a key pair for `alg` (RS256, ES256, EdDSA, ...). */
export async function keyPair(alg: string, kid?: string): Promise<TestKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), alg, use: 'sig', ...(kid === undefined ? {} : { kid }) };
  return { alg, privateKey, publicPem: await exportSPKI(publicKey), jwk };
}

/** A JWKS endpoint on 127.0.0.1 and a free port whose keys a test can change; counts its fetches. */
export class JwksServer {
  keys: JWK[] = [];
  fetches = 0;
  /** When set, every fetch answers this status instead of the keys. */
  failWith: number | null = null;
  private readonly http = createHttpServer((_req, res) => {
    this.fetches++;
    if (this.failWith !== null) {
      res.writeHead(this.failWith).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
  });

  /** Listen; resolves with the JWKS URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  stop(): Promise<void> {
    this.http.closeAllConnections();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }
}

/** The system clock, moved forward by `advance(ms)`; timers stay real. */
export class ShiftedClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
  /** How far ahead of the system clock it is (ms). */
  get offsetMs(): number {
    return this.offset;
  }
  setInterval(fn: () => void, ms: number): ReturnType<Clock['setInterval']> {
    return systemClock.setInterval(fn, ms);
  }
  setTimeout(fn: () => void, ms: number): ReturnType<Clock['setTimeout']> {
    return systemClock.setTimeout(fn, ms);
  }
}

/** How a handshake ended: opened (with the selected subprotocol and the raw response header), or refused. */
export type HandshakeResult =
  | {
      readonly kind: 'open';
      /** Listening since before the upgrade, so the first frames are not missed. */
      readonly client: TestClient;
      readonly ws: WebSocket;
      readonly protocol: string;
      readonly header: string | undefined;
    }
  | { readonly kind: 'refused'; readonly status: number; readonly body: string }
  | { readonly kind: 'error'; readonly message: string };

/** Attempt a handshake and report how it went, without throwing. */
export function handshake(
  url: string,
  protocols: string[] | undefined,
  options: ClientOptions = {},
): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    const ws = protocols === undefined ? new WebSocket(url, options) : new WebSocket(url, protocols, options);
    const client = new TestClient(ws);
    let header: string | undefined;
    ws.on('upgrade', (res) => {
      const value = res.headers['sec-websocket-protocol'];
      header = Array.isArray(value) ? value.join(',') : value;
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ kind: 'refused', status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => resolve({ kind: 'open', client, ws, protocol: ws.protocol, header }));
    ws.on('error', (error) => resolve({ kind: 'error', message: error.message }));
  });
}

/** The error code in a refused handshake's JSON body. */
export function errorCodeOf(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

/** Resolve with `closed`, or reject after `ms` naming `what`: a bounded wait on a close event. */
export function within(closed: Promise<CloseEvent>, ms: number, what: string): Promise<CloseEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no close within ${ms} ms`)), ms);
    closed.then(
      (event) => {
        clearTimeout(timer);
        resolve(event);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
