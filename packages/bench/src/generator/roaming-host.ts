/**
 * The entry of a roaming generator process (drain and failover scenarios): holds up to ~15,000 roaming
 * clients (a process may have at most 20,000 open files here) and, when asked, the numbered publisher.
 */
import { serveRpc } from '../ipc/rpc.js';
import { NumberedPublisher } from './numbered-publisher.js';
import type { RoamingApi, RoamingInit } from './roaming-plan.js';
import { RoamingPool } from './roaming-pool.js';
import { switchboardDialect } from './switchboard-dialect.js';

let state: { init: RoamingInit; pool: RoamingPool; path: (index: number) => Promise<string> } | undefined;
let publisher: NumberedPublisher | null = null;

function current(): NonNullable<typeof state> {
  if (state === undefined) throw new Error('roaming generator not initialised');
  return state;
}

serveRpc<RoamingApi>({
  init: (init) => {
    const dialect = switchboardDialect(init.jwtSecret, true);
    const path = (index: number): Promise<string> => dialect.path(index);
    state = { init, pool: new RoamingPool(init, path), path };
    return Promise.resolve(null);
  },
  connect: (params) => current().pool.connect(params),
  mark: () => {
    current().pool.mark();
    return Promise.resolve(null);
  },
  progress: () => Promise.resolve(current().pool.progress()),
  startPublisher: async (plan) => {
    const { init, pool, path } = current();
    const url = init.nodes[plan.node];
    if (url === undefined) throw new Error(`no node ${plan.node}`);
    publisher?.close();
    publisher = new NumberedPublisher(url, pool.nextAddress(), init.roomPrefix, plan);
    // An index no roaming client uses: the publisher is a user of its own.
    await publisher.start(await path(1_000_000_000));
    return null;
  },
  stopPublisher: async () => {
    if (publisher === null) throw new Error('no publisher');
    const outcome = await publisher.stop(5000);
    publisher = null;
    return outcome;
  },
  report: ({ lastIds, timeoutMs }) => current().pool.report(lastIds, timeoutMs),
  closeAll: async () => {
    publisher?.close();
    publisher = null;
    return { closed: await current().pool.closeAll(5000) };
  },
});
