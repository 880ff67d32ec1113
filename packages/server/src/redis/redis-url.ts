/**
 * Redis addresses and clients. One URL names the deployment's Redis, whatever its topology:
 *
 * - `redis://[user:password@]host:port[/db]`, `rediss://...` (TLS): one server;
 * - `redis-sentinel://[user:password@]host:port[,host:port...]/<master name>[/db]` (`rediss-sentinel://`
 *   for TLS to the master): Sentinel, which follows failovers;
 * - `redis-cluster://[user:password@]host:port[,host:port...]` (`rediss-cluster://`): Redis Cluster, with
 *   sharded pub/sub.
 *
 */
import { InvalidOptionError } from '../errors.js';

/** What a Redis URL says. */
export interface RedisAddress {
  readonly topology: 'standalone' | 'sentinel' | 'cluster';
  readonly tls: boolean;
  readonly hosts: readonly { readonly host: string; readonly port: number }[];
  readonly username?: string;
  readonly password?: string;
  readonly db?: number;
  /** Sentinel only: the monitored master's name. */
  readonly masterName?: string;
}

const SCHEMES: Readonly<Record<string, Pick<RedisAddress, 'topology' | 'tls'>>> = {
  'redis:': { topology: 'standalone', tls: false },
  'rediss:': { topology: 'standalone', tls: true },
  'redis-sentinel:': { topology: 'sentinel', tls: false },
  'rediss-sentinel:': { topology: 'sentinel', tls: true },
  'redis-cluster:': { topology: 'cluster', tls: false },
  'rediss-cluster:': { topology: 'cluster', tls: true },
};

/** The accepted URL forms, in the words errors, `--help` and the docs share. */
export const REDIS_URL_FORMS =
  'redis://host:port[/db], rediss://..., redis-sentinel://host:port[,host:port]/<master>, or redis-cluster://host:port[,host:port]';

/** Parse a Redis URL; throws {@link InvalidOptionError} (option `redisUrl`) when it is not one. */
export function parseRedisUrl(url: string): RedisAddress {
  const match = /^([a-z-]+:)\/\/(?:([^@/]*)@)?([^/?#]+)(\/[^?#]*)?$/i.exec(url);
  const scheme = match?.[1]?.toLowerCase() ?? '';
  const kind = SCHEMES[scheme];
  if (match === null || kind === undefined)
    throw new InvalidOptionError('redisUrl', redact(url), REDIS_URL_FORMS);
  const [, , auth, hostList = '', path = ''] = match;
  const hosts = hostList.split(',').map((entry) => {
    const hostMatch = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
    const port = Number(hostMatch?.[2] ?? (kind.topology === 'sentinel' ? 26379 : 6379));
    if (hostMatch === null || !Number.isInteger(port) || port < 1 || port > 65535)
      throw new InvalidOptionError('redisUrl', redact(url), REDIS_URL_FORMS);
    return { host: (hostMatch[1] ?? '').replace(/^\[|\]$/g, ''), port };
  });
  if (kind.topology === 'standalone' && hosts.length !== 1)
    throw new InvalidOptionError('redisUrl', redact(url), `one host for ${scheme}// (${REDIS_URL_FORMS})`);
  const segments = path.split('/').filter((segment) => segment !== '');
  let masterName: string | undefined;
  if (kind.topology === 'sentinel') {
    masterName = segments.shift();
    if (masterName === undefined)
      throw new InvalidOptionError(
        'redisUrl',
        redact(url),
        `a master name for Sentinel (${REDIS_URL_FORMS})`,
      );
  }
  let db: number | undefined;
  if (segments.length > 0) {
    db = Number(segments[0]);
    if (segments.length > 1 || !Number.isInteger(db) || db < 0 || kind.topology === 'cluster')
      throw new InvalidOptionError(
        'redisUrl',
        redact(url),
        `a database number (not on a cluster) (${REDIS_URL_FORMS})`,
      );
  }
  let username: string | undefined;
  let password: string | undefined;
  if (auth !== undefined && auth !== '') {
    const colon = auth.indexOf(':');
    username = decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon)) || undefined;
    password = colon < 0 ? undefined : decodeURIComponent(auth.slice(colon + 1));
    if (colon < 0) [username, password] = [undefined, username];
  }
  return {
    ...kind,
    hosts,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(db === undefined ? {} : { db }),
    ...(masterName === undefined ? {} : { masterName: decodeURIComponent(masterName) }),
  };
}

/** The URL with its password replaced, for logs and errors. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
