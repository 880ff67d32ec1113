import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { fileURLToPath } from 'node:url';
import { noTypeCycle } from './scripts/eslint-no-type-cycle.js';

const repoRoot = fileURLToPath(new URL('.', import.meta.url));
// The OpenTelemetry SDK is the CLI's to load (cli/tracing-sdk.ts, by dynamic import, which this rule does
// not see); the library speaks only @opentelemetry/api, and its users register their own SDK.
const sdkOnlyInCli = {
  group: ['@opentelemetry/sdk-*', '@opentelemetry/exporter-*', '@opentelemetry/resources'],
  message: 'The library uses @opentelemetry/api only; the CLI loads the SDK (cli/tracing-sdk.ts).',
};
const serverSrc = 'packages/server/src';

// The layers of packages/server/src, top to bottom. A file may import files of its own layer or of the
// layers below it, never one above; a type-only import counts like any other. Paths are relative to
// packages/server/src, a folder ends in `/`, and one that does not exist yet matches nothing until it
// does. The rule's zones are generated from this table: a new folder is one entry here.
export const serverLayers = [
  // argv/env -> options -> start(): the `switchboard` binary
  { name: 'cli', paths: ['cli/'] },
  // the package entry: re-exports only
  { name: 'index', paths: ['index.ts'] },
  // the composition root and the library API: wires the seams, start/stop
  {
    name: 'server',
    paths: [
      'server.ts',
      'server-options.ts',
      'server-results.ts',
      'server-engine.ts',
      'server-admission.ts',
      'server-listener.ts',
      'server-delivery.ts',
      'server-stores.ts',
      'server-admin.ts',
    ],
  },
  // router, API routes, ops routes (health, ready, stats, metrics), admin, attach
  { name: 'http', paths: ['http/'] },
  // connections, channels, sessions, presence policy, delivery, one handler per wire dialect
  { name: 'hub', paths: ['hub/'] },
  // the Transport seam, the handshake every transport shares, and each transport
  { name: 'transports', paths: ['transports/'] },
  // composes a seam set (memory, Redis) behind the Engine interface
  { name: 'engine', paths: ['engine/'] },
  // the seams and their implementations: peers, which may import each other but never in a cycle
  {
    name: 'seams',
    paths: [
      'broker/',
      'history/',
      'presence/',
      'sessions/',
      'nodes/',
      'auth/',
      'metrics/',
      'inbox/',
      'webhooks/',
      'tracing/',
      'admin/',
    ],
  },
  // the Redis plumbing every redis-*.ts shares: connection, keys, scripts, context
  { name: 'redis', paths: ['redis/'] },
  // the leaves: limits, clock, logger, concurrency helpers, typed errors
  { name: 'base', paths: ['limits/', 'util/', 'errors.ts'] },
];

/** One zone per (layer, layer above it) pair, so a message names both ends. */
function layerZones(layers) {
  const at = (paths) => paths.map((p) => `${serverSrc}/${p}`);
  return layers.flatMap((lower, i) =>
    layers.slice(0, i).map((upper) => ({
      target: at(lower.paths),
      from: at(upper.paths),
      message: `Layer "${lower.name}" must not import layer "${upper.name}" (${upper.paths.join(', ')}), which is above it: see serverLayers in eslint.config.js.`,
    })),
  );
}

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'packages/server/public/**', 'examples/**/public/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        queueMicrotask: 'readonly',
        setImmediate: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        performance: 'readonly',
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
    },
  },
  {
    // Only redis-*.ts files and redis/ (the plumbing they share) talk to Redis, only postgres-*.ts files
    // talk to PostgreSQL; lower layers never import the server.
    files: ['packages/server/src/**/*.ts'],
    ignores: [
      'packages/server/src/**/redis-*.ts',
      'packages/server/src/redis/**',
      'packages/server/src/**/postgres-*.ts',
    ],
    rules: {
      'no-restricted-imports': ['error', { paths: ['ioredis', 'redis', 'pg'], patterns: [sdkOnlyInCli] }],
    },
  },
  {
    files: ['packages/server/src/**/redis-*.ts', 'packages/server/src/redis/**'],
    rules: { 'no-restricted-imports': ['error', { paths: ['pg'], patterns: [sdkOnlyInCli] }] },
  },
  {
    files: ['packages/server/src/**/postgres-*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['ioredis', 'redis'], patterns: [sdkOnlyInCli] }] },
  },
  {
    files: ['packages/protocol/src/**/*.ts', 'packages/client/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', 'ws'] }],
    },
  },
  {
    // The import graph, for the rules below and for test/layering.test.ts. Imports are relative `.js`
    // paths to `.ts` files: the TypeScript resolver maps them. Without the extensions and the parser,
    // import-x would follow no .ts file and no-cycle would find nothing; the test proves both rules fire.
    plugins: { 'import-x': importX, switchboard: { rules: { 'no-type-cycle': noTypeCycle } } },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver()],
    },
  },
  {
    files: [`${serverSrc}/**/*.ts`],
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: repoRoot, zones: layerZones(serverLayers) }],
    },
  },
  {
    // No import cycle in any package: import-x/no-cycle for value imports, and no-type-cycle for the
    // cycles a type-only import closes, which import-x skips.
    files: ['packages/{server,protocol,client,bench}/src/**/*.ts'],
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'switchboard/no-type-cycle': 'error',
    },
  },
);
