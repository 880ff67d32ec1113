/** What a detail view needs from the page: the API, the session, and a way to reload itself. */
import type { AdminApi, Session } from './api.js';

/** Passed to every view. */
export interface ViewContext {
  readonly api: AdminApi;
  readonly session: Session;
  /** Load the current view again (after an action changed what it shows). */
  refresh(): void;
}

/** `value` when it is a plain object, else an empty one: the views read answers defensively. */
export function objectOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** `value` when it is an array, else an empty one. */
export function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** `value` when it is a string, else `fallback`. */
export function stringOf(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

/** `value` when it is a finite number, else null. */
export function numberOf(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
