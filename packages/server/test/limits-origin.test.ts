/**
 * Cross-site WebSocket hijacking: a page on another site opens a socket to the server with its visitor's
 * cookies. CORS does not apply to WebSocket handshakes, so the server's Origin allow-list is the defence.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, connectV1, startServer } from './helpers.js';
import type { TestServer } from './helpers.js';
import { assertRefused, assertServed, attempt, metric } from './limits-helpers.js';

describe('Origin allow-list', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ allowedOrigins: ['https://app.example', 'https://*.tenants.example'] });
  });
  after(() => t.stop());

  test('a page on another site is refused with 403 before the upgrade, a listed one is accepted', async () => {
    const { client: bystander } = await connectV1(t, { origin: 'https://app.example' });
    const evil = assertRefused(
      await attempt(`${t.wsUrl}/ws`, { origin: 'https://evil.example' }),
      403,
      'permission_denied',
    );
    assert.equal(evil.body.error?.temporary, false);
    assert.deepEqual(await attempt(`${t.wsUrl}/ws`, { origin: 'https://app.example' }), { opened: true });
    assert.deepEqual(await attempt(`${t.wsUrl}/ws`, { origin: 'https://acme.tenants.example' }), {
      opened: true,
    });
    assertRefused(
      await attempt(`${t.wsUrl}/ws`, { origin: 'https://tenants.example' }),
      403,
      'permission_denied',
    );
    assertRefused(await attempt(`${t.wsUrl}/ws`, { origin: 'http://app.example' }), 403, 'permission_denied');
    assertRefused(await attempt(`${t.wsUrl}/ws`, { origin: 'null' }), 403, 'permission_denied');
    await assertServed(bystander);
    assert.equal(await metric(t, 'switchboard_limits_rejected_total', { limit: 'origin' }), 4);
    assert.equal(
      await metric(t, 'switchboard_handshakes_rejected_total', {
        status: '403',
        reason: 'permission_denied',
      }),
      4,
    );
    bystander.close();
  });

  test('the room endpoint is guarded the same way', async () => {
    assertRefused(
      await attempt(`${t.wsUrl}/ws/lobby`, { origin: 'https://evil.example' }),
      403,
      'permission_denied',
    );
    const member = await connect(`${t.wsUrl}/ws/lobby`, { origin: 'https://app.example' });
    member.close();
  });

  test('a client without Origin (not a browser) is accepted', async () => {
    const { client } = await connectV1(t);
    await assertServed(client);
    client.close();
  });
});

test('without allowedOrigins every origin is accepted (the development default)', async () => {
  const t = await startServer();
  try {
    assert.deepEqual(await attempt(`${t.wsUrl}/ws`, { origin: 'https://evil.example' }), { opened: true });
  } finally {
    await t.stop();
  }
});

test('with requireOrigin, a handshake without Origin is refused with 403 while browsers keep their service', async () => {
  const t = await startServer({ allowedOrigins: ['https://app.example'], requireOrigin: true });
  try {
    const { client: browser } = await connectV1(t, { origin: 'https://app.example' });
    assertRefused(await attempt(`${t.wsUrl}/ws`, {}), 403, 'permission_denied');
    assertRefused(await attempt(`${t.wsUrl}/ws/lobby`, {}), 403, 'permission_denied');
    await assertServed(browser);
    browser.close();
  } finally {
    await t.stop();
  }
});
