import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigFile } from '../src/cli/config-file.js';
import { createServer } from '../src/index.js';

describe('the JSON configuration file', () => {
  it('reads channel rules and the default permission', () => {
    const file = parseConfigFile(
      JSON.stringify({
        defaultPermission: 'claims',
        channels: [
          { pattern: 'public:*', permissions: { subscribe: 'anyone', publish: 'authenticated' } },
          { pattern: 'chat:*', history: { size: 500 }, presence: true, maxMembers: 200 },
        ],
      }),
      '--config chat.json',
    );
    assert.equal(file.defaultPermission, 'claims');
    assert.equal(file.channels?.length, 2);
    // createServer validates the values the file shaped
    assert.doesNotThrow(() => createServer(file));
  });

  it('names the file and the problem for every bad shape', () => {
    assert.throws(
      () => parseConfigFile('{', 'SWITCHBOARD_CONFIG_FILE'),
      /SWITCHBOARD_CONFIG_FILE.*a JSON file/,
    );
    assert.throws(() => parseConfigFile('[]', '--config x'), /--config x.*a JSON object/);
    assert.throws(() => parseConfigFile('{"port": 1}', '--config x'), /--config x: port/);
    assert.throws(() => parseConfigFile('{"channels": {}}', '--config x'), /channels.*an array of rules/);
    assert.throws(() => parseConfigFile('{"channels": [{"pattern": 1}]}', '--config x'), /channels\[0\]/);
    assert.throws(
      () => parseConfigFile('{"channels": [{"pattern": "a", "pub": 1}]}', '--config x'),
      /channels\[0\]\.pub/,
    );
  });

  it('leaves value validation to createServer, which names the rule', () => {
    const file = parseConfigFile(
      '{"channels": [{"pattern": "a:*", "permissions": {"publish": "everybody"}}]}',
      'f',
    );
    assert.throws(() => createServer(file), /channels\[a:\*\]\.permissions\.publish/);
  });
});
