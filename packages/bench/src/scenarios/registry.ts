/** Every load scenario, by name, in the order `all` runs them. */
import { burst } from './burst.js';
import { chat } from './chat.js';
import { churn } from './churn.js';
import { connect } from './connect.js';
import { deliver } from './deliver.js';
import { drain } from './drain.js';
import { failover } from './failover.js';
import { fanout } from './fanout.js';
import { idle } from './idle.js';
import type { Scenario } from './scenario.js';
import { storm } from './storm.js';

/** The load scenarios `all` runs (on the WebSocket targets). */
export const SCENARIOS: readonly Scenario[] = [idle, connect, fanout, burst, chat, churn, storm];

/** Scenarios with targets of their own, run only by name. */
const OWN_TARGETS: readonly Scenario[] = [deliver, drain, failover];

/** The scenario named `name`, or undefined. */
export function findScenario(name: string): Scenario | undefined {
  return [...SCENARIOS, ...OWN_TARGETS].find((s) => s.name === name);
}
