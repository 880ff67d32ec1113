/**
 * nginx and HAProxy in front of test nodes, run with the configurations docs/operations.md shows: each
 * block marked `<!-- tested-config: <proxy> ... -->` is read from the docs and used byte for byte, apart
 * from the placeholders the docs name (addresses, ports, certificate and log paths, the check interval).
 * Each proxy is a child process with its own prefix and port in a temp dir (never the system's nginx or
 * port 80/443), killed in `stop()` and when the test process exits. Plus the TLS-trusting WebSocket and
 * fetch the SDK needs to reach a proxy whose certificate is self-signed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import WebSocket from 'ws';
import type { WebSocketConstructor } from '@switchboard/client';
import { OwnedChild } from './node-process.js';
import { freePorts } from './redis-harness.js';
import { haproxyPath, nginxPath, requirement } from './requirements.js';
import type { Requirement } from './requirements.js';
import type { SelfSigned } from './self-signed.js';

/** The proxies the docs show. */
export type ProxyKind = 'nginx' | 'haproxy';

/** Whether each proxy's suite runs, skips loudly or fails (SWITCHBOARD_REQUIRE). */
export const proxyRequirements: Readonly<Record<ProxyKind, Requirement>> = {
  nginx: requirement('nginx', nginxPath() !== undefined),
  haproxy: requirement('haproxy', haproxyPath() !== undefined),
};

const OPERATIONS_MD = new URL('../../../docs/operations.md', import.meta.url);

/** The fenced block after `<!-- tested-config: <kind> ... -->` in docs/operations.md, exactly as written. */
export function documentedConfig(kind: ProxyKind): string {
  const text = readFileSync(OPERATIONS_MD, 'utf8');
  const marker = `<!-- tested-config: ${kind} `;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`docs/operations.md has no ${marker.trim()} marker`);
  if (text.indexOf(marker, at + 1) >= 0) throw new Error(`docs/operations.md has two ${kind} markers`);
  const match = /^<!--[^\n]*-->\n```[a-z]+\n([\s\S]*?\n)```\n/.exec(text.slice(at));
  if (match?.[1] === undefined) throw new Error(`no fenced block right after the ${kind} marker`);
  return match[1];
}

/** Replace each documented placeholder, which must occur exactly once. */
function substitute(config: string, replacements: readonly (readonly [string, string])[]): string {
  let out = config;
  for (const [placeholder, value] of replacements) {
    const count = out.split(placeholder).length - 1;
    if (count !== 1)
      throw new Error(`placeholder ${JSON.stringify(placeholder)} occurs ${count} times, not once`);
    out = out.replace(placeholder, () => value);
  }
  return out;
}

/** A running proxy. */
export interface RunningProxy {
  /** `wss://127.0.0.1:PORT` */
  readonly wssUrl: string;
  /** `https://127.0.0.1:PORT` */
  readonly httpsUrl: string;
  /** The configuration it runs (the documented block with the placeholders replaced). */
  readonly config: string;
  /** Its access log so far (nginx's file; HAProxy's stdout, where its documented config logs). */
  log(): string;
  /** Its output, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Options of {@link startProxy}. */
export interface StartProxyOptions {
  /** The nodes' `host:port`, two of them (the docs list two). */
  readonly nodes: readonly [string, string];
  readonly tls: SelfSigned;
}

/** Start `kind` with its documented configuration in front of `nodes`; resolves once it accepts TLS. */
export async function startProxy(kind: ProxyKind, options: StartProxyOptions): Promise<RunningProxy> {
  const documented = documentedConfig(kind);
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  const dir = mkdtempSync(join(tmpdir(), `switchboard-${kind}-`));
  try {
    return await launch(kind, documented, port, dir, options);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(
  kind: ProxyKind,
  documented: string,
  port: number,
  dir: string,
  options: StartProxyOptions,
): Promise<RunningProxy> {
  // nginx's workers run as nobody when the master is root; they write temp files under the prefix.
  chmodSync(dir, 0o755);
  let child: OwnedChild;
  let config: string;
  let logFile: string | undefined;
  if (kind === 'nginx') {
    logFile = join(dir, 'access.log');
    config = substitute(documented, [
      ['127.0.0.1:8080', options.nodes[0]],
      ['127.0.0.1:8081', options.nodes[1]],
      ['listen 443 ssl', `listen 127.0.0.1:${port} ssl`],
      ['/etc/letsencrypt/live/rt.example.com/fullchain.pem', options.tls.certFile],
      ['/etc/letsencrypt/live/rt.example.com/privkey.pem', options.tls.keyFile],
      ['/var/log/nginx/switchboard.log', logFile],
    ]);
    writeFileSync(join(dir, 'switchboard.conf'), config);
    // The main file Debian's nginx.conf stands for: the documented file goes inside its http block.
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
      .map((name) => `    ${name}_temp_path ${join(dir, name)};`)
      .join('\n');
    writeFileSync(
      join(dir, 'nginx.conf'),
      `worker_processes 1;\nerror_log ${join(dir, 'error.log')} info;\nevents { worker_connections 1024; }\n` +
        `http {\n${temp}\n    include ${join(dir, 'switchboard.conf')};\n}\n`,
    );
    child = new OwnedChild(nginxPath() ?? 'nginx', [
      '-e',
      join(dir, 'error.log'),
      '-p',
      dir,
      '-c',
      join(dir, 'nginx.conf'),
      '-g',
      `daemon off; pid ${join(dir, 'nginx.pid')};`,
    ]);
  } else {
    const pem = join(dir, 'proxy.pem');
    writeFileSync(
      pem,
      readFileSync(options.tls.certFile, 'utf8') + readFileSync(options.tls.keyFile, 'utf8'),
    );
    config = substitute(documented, [
      ['127.0.0.1:8080', options.nodes[0]],
      ['127.0.0.1:8081', options.nodes[1]],
      ['bind :443 ', `bind 127.0.0.1:${port} `],
      ['/etc/haproxy/certs/rt.example.com.pem', pem],
      ['inter 2s', 'inter 100ms'],
      // Sized to the descriptor limit, which a test machine may hold lower than HAProxy's 2 x 100000.
      ['maxconn 100000', 'maxconn 4000'],
    ]);
    writeFileSync(join(dir, 'haproxy.cfg'), config);
    child = new OwnedChild(haproxyPath() ?? 'haproxy', ['-f', join(dir, 'haproxy.cfg'), '-db']);
  }
  const proxy: RunningProxy = {
    wssUrl: `wss://127.0.0.1:${port}`,
    httpsUrl: `https://127.0.0.1:${port}`,
    config,
    log: () => (logFile === undefined ? child.stdout.toString() : readText(logFile)),
    output: () =>
      `${child.describeOutput()}\n--- error.log ---\n${kind === 'nginx' ? readText(join(dir, 'error.log')) : ''}`,
    stop: async () => {
      await child.terminate(3000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitAccepting(proxy, options.tls.pem, child);
  } catch (error) {
    const output = proxy.output();
    await proxy.stop();
    throw new Error(`${kind} did not start: ${(error as Error).message}\n${output}`, { cause: error });
  }
  return proxy;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Poll `/health` through the proxy until it answers 200 (bounded), or the child exits. */
async function waitAccepting(proxy: RunningProxy, ca: string, child: OwnedChild): Promise<void> {
  const get = trustingFetch(ca);
  const deadline = Date.now() + 10_000;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitStatus !== undefined) throw new Error(`exited with ${child.exitStatus}`);
    try {
      const response = await get(`${proxy.httpsUrl}/health`, { signal: AbortSignal.timeout(1000) });
      await response.text();
      if (response.status === 200) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no 200 from /health within 10 s (last: ${last})`);
}

/** `ws`'s WebSocket trusting `ca` (the SDK's `WebSocket` option); `localAddress` picks the client's address. */
export function trustingWebSocket(ca: string, localAddress?: string): WebSocketConstructor {
  return class TrustingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca, ...(localAddress === undefined ? {} : { localAddress }) });
    }
  };
}

/**
 * A `fetch` over node:https trusting `ca` (Node 20's fetch cannot be given a CA): enough for the SDK's
 * SSE and polling transports, which stream the body and abort by signal.
 */
export function trustingFetch(ca: string, localAddress?: string): typeof fetch {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = input instanceof Request ? input.url : String(input);
      const headers = Object.fromEntries(new Headers(init.headers).entries());
      const req = httpsRequest(
        url,
        {
          method: init.method ?? 'GET',
          headers,
          ca,
          ...(init.signal ? { signal: init.signal } : {}),
          ...(localAddress === undefined ? {} : { localAddress }),
        },
        (res) => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const one of Array.isArray(value) ? value : [value ?? '']) responseHeaders.append(name, one);
          }
          const status = res.statusCode ?? 502;
          const empty = status === 204 || status === 304 || init.method === 'HEAD';
          if (empty) res.resume();
          const body = empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
          resolve(new Response(body, { status, headers: responseHeaders }));
        },
      );
      req.once('error', reject);
      if (typeof init.body === 'string') req.write(init.body);
      else if (init.body !== undefined && init.body !== null) {
        reject(new Error('trustingFetch sends string bodies only'));
        req.destroy();
        return;
      }
      req.end();
    });
}
