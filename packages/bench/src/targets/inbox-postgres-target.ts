/**
 * `server.deliver` into the PostgreSQL inbox store, in a fresh database of the machine's PostgreSQL
 * (created at start, dropped at stop; see postgres-database.ts). The engine is the memory one: only the
 * inbox is in PostgreSQL. The server's processes (postgres backends) are not ours, so their CPU is not
 * reported.
 */
import { createDatabase } from './postgres-database.js';
import { startDeliveryTarget } from './delivery-target.js';
import type { RunningTarget, TargetConfig } from './target.js';

/** Create the database and start the inbox-postgres target. */
export async function start(config: TargetConfig): Promise<RunningTarget> {
  const database = await createDatabase();
  return startDeliveryTarget(config, {
    api: 'deliver',
    server: { inbox: { store: 'postgres' }, postgres: { url: database.url } },
    cleanup: () => database.drop(),
  });
}
