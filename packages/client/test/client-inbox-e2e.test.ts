/**
 * The SDK's inbox against the real server's inbox runtime (issue 18), over every transport: a delivered
 * message reaches the handler and is acked (gone), a handler that throws gets the message again with the
 * next attempt, and two devices of one user each get it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { SwitchboardClient } from '../src/index.js';
import type { InboxMessage, TransportName } from '../src/index.js';
import { testScope } from './helpers.js';

const SECRET = 'switchboard-client-inbox-e2e-secret-0123456789';
const scope = testScope({
  shutdownTimeoutMs: 200,
  auth: { secret: SECRET },
  inbox: { ackTimeoutMs: 5000, retryMinMs: 5, retryMaxMs: 20 },
});

function token(userId: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

/** Messages a handler saw, and a wait for the `n`th. */
function seen(): { messages: InboxMessage[]; count(n: number): Promise<void>; push(m: InboxMessage): void } {
  const messages: InboxMessage[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  return {
    messages,
    push(m) {
      messages.push(m);
      for (const w of waiters) if (messages.length >= w.n) w.resolve();
    },
    count: (n) =>
      new Promise((resolve, reject) => {
        if (messages.length >= n) return resolve();
        const timer = setTimeout(() => reject(new Error(`only ${messages.length} of ${n} messages`)), 5000);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
  };
}

for (const transport of ['websocket', 'sse', 'polling'] as const satisfies readonly TransportName[]) {
  describe(`the inbox end to end over ${transport}`, () => {
    it('delivered -> handled -> acked; a failed handler gets it again; two devices each get it', async () => {
      const t = await scope.server();
      const client = async (device: string): Promise<SwitchboardClient> => {
        const c = new SwitchboardClient(t.url, {
          WebSocket,
          transports: [transport],
          token: await token('ana'),
          inbox: { device },
        });
        scope.defer(() => c.close());
        await c.connect();
        return c;
      };
      const laptop = await client('laptop');
      const phone = await client('phone');
      const onLaptop = seen();
      const onPhone = seen();
      let failOnce = true;
      laptop.inbox.on('message', (m) => {
        onLaptop.push(m);
        if (failOnce) {
          failOnce = false;
          throw new Error('not yet');
        }
      });
      phone.inbox.on('message', (m) => onPhone.push(m));
      await new Promise<void>((resolve) => laptop.inbox.on('open', () => resolve()));
      const { id } = await t.server.deliver('ana', { n: 1 });
      await onLaptop.count(2);
      await onPhone.count(1);
      assert.deepEqual(
        onLaptop.messages.map((m) => [m.id, m.attempt, m.data]),
        [
          [id, 1, { n: 1 }],
          [id, 2, { n: 1 }],
        ],
      );
      assert.deepEqual(
        onPhone.messages.map((m) => [m.id, m.attempt]),
        [[id, 1]],
      );
      // Acked by both devices: the next message is the only one either gets.
      const next = await t.server.deliver('ana', { n: 2 });
      await onLaptop.count(3);
      await onPhone.count(2);
      assert.equal(onLaptop.messages[2]?.id, next.id);
      assert.equal(onPhone.messages[1]?.id, next.id);
      assert.deepEqual(await t.server.deadLetters('ana'), []);
    });
  });
}
