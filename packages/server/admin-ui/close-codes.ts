/** Names of WebSocket close codes for the close-code table, from the protocol's one table. Pure. */
import { CloseCode, shouldReconnect } from '@switchboard/protocol';

const NAMES = new Map<number, string>(
  Object.entries(CloseCode).map(([name, code]) => [
    code,
    // `HeartbeatTimeout` -> `heartbeat timeout`
    name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase(),
  ]),
);

/** What close code `code` (a number or its decimal text) means: `slow consumer`, or `code 4321`. */
export function closeCodeName(code: number | string): string {
  const n = typeof code === 'number' ? code : Number(code);
  return NAMES.get(n) ?? (Number.isInteger(n) ? `code ${n}` : String(code));
}

/** Whether a client closed with `code` reconnects by itself (docs/codes.md). */
export function closeCodeReconnects(code: number | string): boolean {
  const n = typeof code === 'number' ? code : Number(code);
  return Number.isInteger(n) && shouldReconnect(n);
}
