import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigFile } from '../src/cli/config-file.js';
import { parseCommandLine } from '../src/cli/parse-options.js';
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

  it('reads a rule’s batchDelayMs, which createServer bounds', () => {
    const file = parseConfigFile('{"channels": [{"pattern": "ticks:*", "batchDelayMs": 50}]}', 'f');
    assert.deepEqual(file.channels, [{ pattern: 'ticks:*', batchDelayMs: 50 }]);
    assert.doesNotThrow(() => createServer(file));
    const tooLong = parseConfigFile('{"channels": [{"pattern": "ticks:*", "batchDelayMs": 5000}]}', 'f');
    assert.throws(
      () => createServer(tooLong),
      /invalid value 5000 for channels\[ticks:\*\]\.batchDelayMs: expected an integer from 0 to 1000/,
    );
  });
});

describe('webhooks in the configuration file', () => {
  it('reads the targets, checked by createServer’s rules, and never echoes a secret', () => {
    const targets = [
      { url: 'https://a.example/hook', secret: 's3cret-a' },
      { url: 'http://127.0.0.1:9/h', secret: 's3cret-b', events: ['dead_letter'] },
    ];
    assert.deepEqual(parseConfigFile(JSON.stringify({ webhooks: targets }), 'f').webhooks, targets);
    assert.throws(() => parseConfigFile('{"webhooks": {}}', 'f'), /f: webhooks.*an array/);
    assert.throws(
      () => parseConfigFile('{"webhooks": [{"url": "https://a.example"}]}', 'f'),
      /f: webhooks\[0\].*a string "secret"/,
    );
    assert.throws(
      () => parseConfigFile('{"webhooks": [{"url": "https://a.example", "secret": "k", "x": 1}]}', 'f'),
      /f: webhooks\[0\]\.x/,
    );
    assert.throws(
      () => parseConfigFile('{"webhooks": [{"url": "ftp://a", "secret": "hidden-one"}]}', 'f'),
      /f: webhooks\[0\]\.url.*http: or https:/,
    );
    assert.throws(
      () =>
        parseConfigFile(
          '{"webhooks": [{"url": "https://a.example", "secret": "k", "events": ["nope"]}]}',
          'f',
        ),
      /f: webhooks\[0\]\.events/,
    );
    try {
      parseConfigFile('{"webhooks": [{"url": "https://a.example", "secret": ""}]}', 'f');
      assert.fail('an empty secret was accepted');
    } catch (error) {
      assert.match(String(error), /webhooks\[0\]\.secret/);
    }
  });

  it('the file’s targets come first, then the one of --webhook-url', () => {
    const read = (): string => JSON.stringify({ webhooks: [{ url: 'https://a.example/h', secret: 'a' }] });
    const command = parseCommandLine(
      ['--config', 'hooks.json', '--webhook-url', 'https://b.example/h'],
      { SWITCHBOARD_WEBHOOK_SECRET: 'b' },
      read,
    );
    assert.equal(command.kind, 'run');
    if (command.kind !== 'run') return;
    assert.deepEqual(command.config.server.webhooks, [
      { url: 'https://a.example/h', secret: 'a' },
      { url: 'https://b.example/h', secret: 'b' },
    ]);
  });
});

describe('--config / SWITCHBOARD_CONFIG_FILE', () => {
  const files: Record<string, string> = {
    'rules.json': JSON.stringify({
      defaultPermission: 'authenticated',
      channels: [{ pattern: 'chat:*', presence: true }],
    }),
    'bad.json': JSON.stringify({ channels: [{ pattern: 'x:*', permissions: { publish: 'everybody' } }] }),
  };
  const read = (path: string): string => {
    const text = files[path];
    if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
    return text;
  };

  it('puts the file’s rules into the server options', () => {
    const command = parseCommandLine(['--config', 'rules.json'], {}, read);
    assert.equal(command.kind, 'run');
    if (command.kind !== 'run') return;
    assert.equal(command.config.server.defaultPermission, 'authenticated');
    assert.deepEqual(command.config.server.channels, [{ pattern: 'chat:*', presence: true }]);
  });

  it('names the variable, the file and the problem', () => {
    assert.throws(
      () => parseCommandLine([], { SWITCHBOARD_CONFIG_FILE: 'missing.json' }, read),
      /"missing\.json" for SWITCHBOARD_CONFIG_FILE: expected a readable file/,
    );
    assert.throws(
      () => parseCommandLine(['--config', 'bad.json'], {}, read),
      /channels\[x:\*\]\.permissions\.publish/,
    );
  });
});
