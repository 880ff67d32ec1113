/** The heartbeat proof options: defaults, the CLI flags and variables, and validation. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine } from '../src/cli/parse-options.js';
import type { CliCommand, Environment } from '../src/cli/parse-options.js';
import { resolveHeartbeatProofs } from '../src/server-options.js';
import { createServer } from '../src/index.js';
import type { ServerOptions } from '../src/index.js';
import { InvalidOptionError } from '../src/errors.js';

function noFiles(path: string): string {
  throw new Error(`ENOENT: no such file or directory, open '${path}'`);
}

function serverOptions(argv: string[], env: Environment = {}): ServerOptions {
  const command: CliCommand = parseCommandLine(argv, env, noFiles);
  assert.equal(command.kind, 'run');
  return (command as Extract<CliCommand, { kind: 'run' }>).config.server;
}

describe('v1HeartbeatProof and roomHeartbeatProof', () => {
  it('default to application on both endpoints', () => {
    assert.deepEqual(resolveHeartbeatProofs({}), { v1: 'application', room: 'application' });
    assert.deepEqual(resolveHeartbeatProofs(serverOptions([])), { v1: 'application', room: 'application' });
  });

  it('are set per endpoint by flag or variable (any case); the flag wins', () => {
    const options = serverOptions(['--v1-heartbeat-proof', 'any'], {
      SWITCHBOARD_ROOM_HEARTBEAT_PROOF: 'ANY',
      SWITCHBOARD_V1_HEARTBEAT_PROOF: 'application',
    });
    assert.equal(options.v1HeartbeatProof, 'any');
    assert.equal(options.roomHeartbeatProof, 'any');
    assert.deepEqual(resolveHeartbeatProofs(serverOptions(['--room-heartbeat-proof=any'])), {
      v1: 'application',
      room: 'any',
    });
  });

  it('refuse anything else, naming what the operator wrote', () => {
    assert.throws(
      () => parseCommandLine([], { SWITCHBOARD_V1_HEARTBEAT_PROOF: 'pong' }, noFiles),
      (error: unknown) =>
        error instanceof InvalidOptionError &&
        error.option === 'SWITCHBOARD_V1_HEARTBEAT_PROOF' &&
        /one of application, any/.test(error.message),
    );
    assert.throws(
      () => createServer({ roomHeartbeatProof: 'protocol' as 'any' }),
      (error: unknown) => error instanceof InvalidOptionError && error.option === 'roomHeartbeatProof',
    );
  });
});
