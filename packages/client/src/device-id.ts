/**
 * The inbox device id the SDK picks when the application gives none: in a browser, one random id per
 * browser profile and origin, kept in localStorage so that a reload or a new tab is the same device
 * (its inbox progress is kept server-side per device); elsewhere, or when storage is unusable, a random
 * id per client instance.
 */
import { deviceIdProblem } from '@switchboard/protocol';

/** The localStorage key holding the browser's device id. */
export const DEVICE_STORAGE_KEY = 'switchboard.device';

/** The part of the Web Storage API the SDK uses. */
interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** A fresh random device id: `d-` and 32 hex digits (128 random bits). */
export function randomDeviceId(): string {
  const bytes = new Uint8Array(16);
  const crypto = (globalThis as { crypto?: { getRandomValues?: (array: Uint8Array) => Uint8Array } }).crypto;
  if (typeof crypto?.getRandomValues === 'function') crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return `d-${hex}`;
}

/**
 * The device id kept in `localStorage` (created and stored on first use), or a new random one when there
 * is no localStorage or it fails. Every access is guarded: reading `localStorage` itself throws in
 * sandboxed iframes and with cookies blocked, and `setItem` throws when storage is full or read-only
 * (Safari's private mode used to).
 */
export function defaultDeviceId(): string {
  let storage: StorageLike | undefined;
  try {
    storage = (globalThis as { localStorage?: StorageLike }).localStorage;
  } catch {
    return randomDeviceId();
  }
  if (storage === undefined || storage === null) return randomDeviceId();
  try {
    const stored = storage.getItem(DEVICE_STORAGE_KEY);
    // Anything else (another library's value, a hand edit) is replaced.
    if (deviceIdProblem(stored) === null) return stored as string;
  } catch {
    return randomDeviceId();
  }
  const id = randomDeviceId();
  try {
    storage.setItem(DEVICE_STORAGE_KEY, id);
  } catch {
    // Not kept: this client is a device of its own, as outside a browser.
  }
  return id;
}
