/**
 * The inbox's default device id: in a browser (simulated here with a `globalThis.localStorage`), one id
 * kept under `switchboard.device` and shared by every client of the page; without storage, or when
 * storage throws, a random id per client instance.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { DEVICE_STORAGE_KEY, SwitchboardClient } from '../src/index.js';
import { ScriptedServer } from './scripted-server.js';

const RANDOM_ID = /^d-[0-9a-f]{32}$/;

/** A Web Storage stand-in; `failing` makes every call throw, as a browser with storage blocked does. */
class MemoryStorage {
  readonly items = new Map<string, string>();
  failing: 'get' | 'set' | null = null;
  getItem(key: string): string | null {
    if (this.failing === 'get') throw new Error('SecurityError: storage is blocked');
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    if (this.failing !== null) throw new Error('QuotaExceededError');
    this.items.set(key, value);
  }
}

const global = globalThis as { localStorage?: unknown };

afterEach(() => {
  delete global.localStorage;
});

function deviceOf(): string {
  return new SwitchboardClient('ws://127.0.0.1:1/ws', { WebSocket }).inbox.device;
}

describe('the default inbox device id', () => {
  it('is kept in localStorage and shared by every client of the page', () => {
    const storage = new MemoryStorage();
    global.localStorage = storage;
    const first = deviceOf();
    assert.match(first, RANDOM_ID);
    assert.equal(storage.items.get(DEVICE_STORAGE_KEY), first);
    assert.equal(DEVICE_STORAGE_KEY, 'switchboard.device');
    assert.equal(deviceOf(), first);
  });

  it('reuses a stored id, and replaces a stored value that is no device id', () => {
    const storage = new MemoryStorage();
    global.localStorage = storage;
    storage.items.set(DEVICE_STORAGE_KEY, 'tablet-7');
    assert.equal(deviceOf(), 'tablet-7');
    storage.items.set(DEVICE_STORAGE_KEY, 'not a device id!');
    const replaced = deviceOf();
    assert.match(replaced, RANDOM_ID);
    assert.equal(storage.items.get(DEVICE_STORAGE_KEY), replaced);
  });

  it('is random per client when storage throws, or is missing, or its getter throws', () => {
    const storage = new MemoryStorage();
    global.localStorage = storage;
    for (const failing of ['get', 'set'] as const) {
      storage.failing = failing;
      const [a, b] = [deviceOf(), deviceOf()];
      assert.match(a, RANDOM_ID);
      assert.notEqual(a, b);
    }
    delete global.localStorage;
    assert.notEqual(deviceOf(), deviceOf());
    Object.defineProperty(globalThis, 'localStorage', {
      configurable: true,
      get() {
        throw new Error('SecurityError: sandboxed');
      },
    });
    const [a, b] = [deviceOf(), deviceOf()];
    assert.match(a, RANDOM_ID);
    assert.notEqual(a, b);
  });

  it('the `inbox.device` option wins, and storage is not touched', () => {
    const storage = new MemoryStorage();
    global.localStorage = storage;
    const c = new SwitchboardClient('ws://127.0.0.1:1/ws', { WebSocket, inbox: { device: 'kiosk' } });
    assert.equal(c.inbox.device, 'kiosk');
    assert.equal(storage.items.size, 0);
  });

  it('is what the inbox is opened with, again after a reconnect', async () => {
    const storage = new MemoryStorage();
    global.localStorage = storage;
    const server = await ScriptedServer.start();
    const c = new SwitchboardClient(server.url, {
      WebSocket,
      transports: ['websocket'],
      backoff: { minDelayMs: 1, maxDelayMs: 5 },
    });
    try {
      c.inbox.on('message', () => {});
      await c.connect();
      const first = await server.peer(0);
      await server.command(first, 'inbox', (cmd) => cmd.type === 'inbox');
      first.close();
      const second = await server.peer(1);
      await server.command(second, 'inbox', (cmd) => cmd.type === 'inbox');
      const stored = storage.items.get(DEVICE_STORAGE_KEY);
      assert.deepEqual(first.sent('inbox'), [{ type: 'inbox', device: stored, prefetch: 10 }]);
      assert.deepEqual(second.sent('inbox'), first.sent('inbox'));
    } finally {
      c.close();
      await server.close();
    }
  });
});
