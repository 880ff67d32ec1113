/**
 * How the dashboard writes numbers, sizes, rates, durations and times. Pure: no DOM, no clock (the
 * caller passes `now`), so the unit tests pin every format.
 */

/** What the page shows for a value it does not have (a node without Redis, no latency sample yet). */
export const NONE = '—';

const COMPACT_UNITS = [
  { limit: 1e12, div: 1e12, suffix: 'T' },
  { limit: 1e9, div: 1e9, suffix: 'G' },
  { limit: 1e6, div: 1e6, suffix: 'M' },
  { limit: 1e4, div: 1e3, suffix: 'k' },
] as const;

function finite(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A count: `1,234` below ten thousand, then `12.3k`, `4.56M`. */
export function formatCount(value: number | null | undefined): string {
  if (!finite(value)) return NONE;
  const abs = Math.abs(value);
  for (const unit of COMPACT_UNITS) {
    if (abs >= unit.limit) return `${trim(value / unit.div, 3)}${unit.suffix}`;
  }
  return Math.round(value).toLocaleString('en-US');
}

/** `value` with `significant` significant digits at most, without trailing zeros (`12.3`, `4.5`, `120`). */
function trim(value: number, significant: number): string {
  const abs = Math.abs(value);
  const decimals = abs >= 100 ? 0 : abs >= 10 ? Math.max(0, significant - 2) : significant - 1;
  return String(Number(value.toFixed(decimals)));
}

/** A per-second rate: `0/s`, `0.25/s`, `3.4/s`, `1,200/s`, `45.6k/s`. */
export function formatRate(perSec: number | null | undefined): string {
  if (!finite(perSec)) return NONE;
  const abs = Math.abs(perSec);
  if (abs === 0) return '0/s';
  if (abs < 0.01) return '<0.01/s';
  if (abs < 10) return `${String(Number(perSec.toFixed(2)))}/s`;
  return `${formatCount(perSec)}/s`;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** A size in binary units: `512 B`, `1.5 KiB`, `230 MiB`. */
export function formatBytes(bytes: number | null | undefined): string {
  if (!finite(bytes)) return NONE;
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${trim(value, 3)} ${BYTE_UNITS[unit]}`;
}

/** A short duration such as a latency: `0.42 ms`, `12 ms`, `1.25 s`. */
export function formatMs(ms: number | null | undefined): string {
  if (!finite(ms)) return NONE;
  if (ms >= 1000) return `${trim(ms / 1000, 3)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${String(Number(ms.toFixed(2)))} ms`;
}

/** A percentage of 0-100 (or more: CPU over several cores): `7.5%`, `100%`. */
export function formatPercent(percent: number | null | undefined): string {
  if (!finite(percent)) return NONE;
  return `${trim(percent, 3)}%`;
}

/** A long duration, two units at most: `45 s`, `12 min 5 s`, `3 h 20 min`, `2 d 4 h`. */
export function formatDuration(ms: number | null | undefined): string {
  if (!finite(ms)) return NONE;
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  if (m > 0) return s % 60 > 0 ? `${m} min ${s % 60} s` : `${m} min`;
  return `${s} s`;
}

/** How long ago `time` was, coarsely: `just now`, `12 s ago`, `5 min ago`. */
export function formatAgo(time: number | null | undefined, now: number): string {
  if (!finite(time)) return NONE;
  const ms = now - time;
  if (ms < 1500) return 'just now';
  return `${formatDuration(ms)} ago`;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** A wall-clock time of day in the browser's zone, to the second: `14:03:27`. */
export function formatClock(time: number | null | undefined): string {
  if (!finite(time)) return NONE;
  const d = new Date(time);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A date and time in the browser's zone: `2025-05-11 14:03:27`. */
export function formatDateTime(time: number | null | undefined): string {
  if (!finite(time)) return NONE;
  const d = new Date(time);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatClock(time)}`;
}

/** A count with its noun, singular or plural: `1 node`, `3 nodes`. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? singular : pluralForm}`;
}

/**
 * JSON for people on one line when it fits in `oneLine` characters (most chat messages do), else
 * indented; cut like {@link formatJson}.
 */
export function formatJsonCompact(value: unknown, oneLine = 100, maxChars = 4000): string {
  if (value === undefined) return NONE;
  let flat: string | undefined;
  try {
    flat = JSON.stringify(value);
  } catch {
    flat = undefined;
  }
  if (flat !== undefined && flat.length <= oneLine) return flat;
  return formatJson(value, maxChars);
}

/**
 * JSON for people: indented, and cut at `maxChars` with a note of how much was left out, so one huge
 * message cannot make the page crawl. Undefined (nothing stored) reads as the dash.
 */
export function formatJson(value: unknown, maxChars = 4000): string {
  if (value === undefined) return NONE;
  let text: string;
  try {
    text = JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    text = String(value);
  }
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}\n… (${(text.length - maxChars).toLocaleString('en-US')} more characters)`;
}
