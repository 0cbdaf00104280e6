// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

// Workflow code must be deterministic: no Node built-ins and no package that does I/O.
const IO_PACKAGES = [
  '@mikro-orm/*',
  'stripe',
  '@aws-sdk/*',
  'ioredis',
  'hono',
  'hono/*',
  '@hono/*',
  'pino',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.data/', 'bench/results/', 'web/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts', 'test/replay/fixtures/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: builtinModules.flatMap((m) => [m, `node:${m}`]).map((name) => ({ name, message: 'Workflows are deterministic: no Node built-ins.' })),
          patterns: [
            { group: IO_PACKAGES, message: 'Workflows do no I/O: call an activity.' },
            { group: ['**/infra/**', '**/api/**'], message: 'Workflows import only domain/ and activity types.' },
            { group: ['**/activities/**'], allowTypeImports: true, message: 'Import activity types only (import type).' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop.' },
        { name: 'fetch', message: 'Workflows do no I/O: call an activity.' },
        { name: 'process', message: 'Workflows read no environment: pass it in as input.' },
      ],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Use uuid4() or a seeded helper from @temporalio/workflow.' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '*.config.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Loaded by path with require() (the worker) and by the workflow bundler, so CommonJS as written;
    // dependency-cruiser reads its rules the same way.
    files: ['infra/temporal/failure-converter.cjs', '.dependency-cruiser.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The Stripe fake's Stripe.js runs in browsers, as written (ES5 style, no build step).
    files: ['dev/stripe/stripe.js'],
    languageOptions: { sourceType: 'script', globals: { window: 'readonly', document: 'readonly', fetch: 'readonly', URLSearchParams: 'readonly' } },
    rules: { '@typescript-eslint/no-this-alias': 'off' },
  },
);
