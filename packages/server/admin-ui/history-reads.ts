/** History-read pacing as the Redis card shows it. Pure. */
import { formatCount, formatRate } from './format.js';

/** A field name for people: `allowedPerSec` -> `allowed/s`, `queueDepth` -> `queue depth`. */
export function humanKey(key: string): string {
  return key
    .replace(/PerSec$/, '/s')
    .replace(/Ms$/, ' (ms)')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

/**
 * History-read pacing as pairs to show: `running 2 of 8`, `waiting 0 of 100`, `refused 3 (0.5/s)` from
 * the fields nodes publish, then any other field as it is (a newer node may add some).
 */
export function pacingFields(reads: Readonly<Record<string, number | string | boolean>>): [string, string][] {
  const shown = new Set<string>();
  const out: [string, string][] = [];
  const value = (key: string): number | undefined => {
    const v = reads[key];
    return typeof v === 'number' ? v : undefined;
  };
  const pair = (label: string, key: string, limitKey: string): void => {
    const v = value(key);
    if (v === undefined) return;
    const limit = value(limitKey);
    out.push([label, limit === undefined ? formatCount(v) : `${formatCount(v)} of ${formatCount(limit)}`]);
    shown.add(key).add(limitKey);
  };
  pair('running', 'running', 'concurrency');
  pair('waiting', 'waiting', 'queueSize');
  const refused = value('refused');
  if (refused !== undefined) {
    const rate = value('refusedPerSec');
    out.push([
      'refused',
      rate === undefined ? formatCount(refused) : `${formatCount(refused)} (${formatRate(rate)})`,
    ]);
    shown.add('refused').add('refusedPerSec');
  }
  for (const [key, v] of Object.entries(reads)) {
    if (!shown.has(key)) out.push([humanKey(key), typeof v === 'number' ? formatCount(v) : String(v)]);
  }
  return out;
}
