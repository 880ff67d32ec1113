/**
 * The entry of a generator process: holds up to ~15,000 client connections to one target (a process
 * may have at most 20,000 open files here) and runs the orchestrator's connect, subscribe, publish,
 * churn and reconnect commands over IPC.
 */
import { serveRpc } from '../ipc/rpc.js';
import { churn } from './churn.js';
import { ClientPool } from './client-pool.js';
import type { Dialect } from './dialect.js';
import type { GeneratorApi, GeneratorInit } from './plan.js';
import { publish } from './publisher.js';
import { inboxDialect } from './inbox-dialect.js';
import { pollDialect } from './poll-dialect.js';
import { rawDialect } from './raw-dialect.js';
import { Reconnector } from './reconnector.js';
import { msgpackDialect } from './msgpack-dialect.js';
import { socketioDialect } from './socketio-dialect.js';
import { sseDialect } from './sse-dialect.js';
import { switchboardDialect } from './switchboard-dialect.js';

const generatorIndex = Number(process.argv[2] ?? 0);
/** Set by `stopPublishing`: the running publish ends at its next tick. */
let publishingStopped = false;
let state: { init: GeneratorInit; dialect: Dialect; pool: ClientPool; reconnector: Reconnector } | undefined;

function current(): NonNullable<typeof state> {
  if (state === undefined) throw new Error('generator not initialised');
  return state;
}

function dialectOf(init: GeneratorInit): Dialect {
  switch (init.dialect) {
    case 'switchboard':
      return switchboardDialect(init.jwtSecret, true);
    case 'switchboard-msgpack':
      return msgpackDialect(init.jwtSecret);
    case 'switchboard-unbatched':
      return switchboardDialect(init.jwtSecret, false);
    case 'sse':
      return sseDialect(init.jwtSecret);
    case 'poll':
      return pollDialect(init.jwtSecret);
    case 'socketio':
      return socketioDialect;
    case 'raw':
      return rawDialect;
    case 'inbox':
      return inboxDialect(init.jwtSecret);
  }
}

serveRpc<GeneratorApi>({
  init: (init) => {
    const dialect = dialectOf(init);
    const pool = new ClientPool(init, dialect);
    state = { init, dialect, pool, reconnector: new Reconnector(pool) };
    return Promise.resolve(null);
  },
  connect: (params) => current().pool.connect(params),
  subscribe: (params) => current().pool.subscribe(params),
  publish: (params) => {
    const { pool, dialect } = current();
    publishingStopped = false;
    return publish(pool, dialect, params, () => publishingStopped);
  },
  stopPublishing: () => {
    publishingStopped = true;
    return Promise.resolve(null);
  },
  counters: ({ reset, latency }) => Promise.resolve(current().pool.counters(reset, latency)),
  churn: (params) => churn(current().pool, generatorIndex, params),
  reconnect: (params) => {
    current().reconnector.configure(params);
    return Promise.resolve(null);
  },
  reconnectStatus: () => Promise.resolve(current().reconnector.status()),
  closeAll: async () => ({ closed: await current().pool.closeAll(5000) }),
});
