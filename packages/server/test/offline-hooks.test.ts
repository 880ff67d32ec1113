/**
 * onUserOffline on one node (the memory engine): fired once per offline transition after the presence
 * grace, never for a user who came back within it or still holds another connection.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, queryUserAuthenticator, recordingLogger, startServer } from './helpers.js';
import type { TestClient, TestServer } from './helpers.js';
import { ADMISSION_LIMITS_OFF } from '../src/index.js';
import { OfflineRecorder, quiet } from './offline-recorder.js';

const GRACE_MS = 150;

describe('onUserOffline (memory engine)', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  async function server(recorder: OfflineRecorder): Promise<TestServer> {
    t = await startServer({
      ...ADMISSION_LIMITS_OFF,
      presenceGraceMs: GRACE_MS,
      authenticator: queryUserAuthenticator,
      onUserOffline: recorder.hook,
    });
    return t;
  }

  async function open(s: TestServer, user: string): Promise<TestClient> {
    const client = await connect(`${s.wsUrl}/ws?user=${user}`);
    await client.nextOfType('connected');
    return client;
  }

  it('fires once, after the grace, when the last connection closes', async () => {
    const recorder = new OfflineRecorder();
    const s = await server(recorder);
    const ann = await open(s, 'ann');
    const closedAt = Date.now();
    ann.close();
    await ann.closed;
    await recorder.count(1);
    assert.deepEqual(recorder.users(), ['ann']);
    assert.ok((recorder.fired[0]?.at ?? Number.NaN) - closedAt >= GRACE_MS, 'fired before the grace ran out');
    await quiet(GRACE_MS * 4);
    assert.equal(recorder.fired.length, 1);
  });

  it('fires nothing for a user who comes back within the grace; fires once when it really leaves', async () => {
    const recorder = new OfflineRecorder();
    const s = await server(recorder);
    const first = await open(s, 'bob');
    first.close();
    await first.closed;
    const second = await open(s, 'bob'); // a reload: back well within the grace
    await quiet(GRACE_MS * 4);
    assert.equal(recorder.fired.length, 0);
    second.close();
    await recorder.count(1);
    await quiet(GRACE_MS * 4);
    assert.deepEqual(recorder.users(), ['bob']);
  });

  it('fires nothing while another connection of the user stays open', async () => {
    const recorder = new OfflineRecorder();
    const s = await server(recorder);
    const tab1 = await open(s, 'cat');
    const tab2 = await open(s, 'cat');
    const other = await open(s, 'dan');
    tab1.close();
    await quiet(GRACE_MS * 4);
    assert.equal(recorder.fired.length, 0);
    tab2.close();
    await recorder.count(1);
    assert.deepEqual(recorder.users(), ['cat']);
    other.close();
    await recorder.count(2);
    assert.deepEqual(recorder.users(), ['cat', 'dan']);
  });

  it('never fires for anonymous connections; a hook that throws breaks nothing', async () => {
    const recorder = new OfflineRecorder();
    const { logger, lines } = recordingLogger();
    t = await startServer({
      logger,
      ...ADMISSION_LIMITS_OFF,
      presenceGraceMs: GRACE_MS,
      authenticator: queryUserAuthenticator,
      onUserOffline: (userId) => {
        recorder.hook(userId);
        throw new Error('hook bug');
      },
    });
    const anonymous = await connect(`${t.wsUrl}/ws`);
    await anonymous.nextOfType('connected');
    const eve = await open(t, 'eve');
    anonymous.close();
    eve.close();
    await recorder.count(1);
    await quiet(GRACE_MS * 4);
    assert.deepEqual(recorder.users(), ['eve']);
    const again = await open(t, 'eve');
    again.close();
    await recorder.count(2);
    assert.equal(lines.filter((line) => line.msg === 'hook failed').length, 2);
  });
});
