// Mutation testing of the security-critical modules: `npm run test:mutation`.
// Not part of `npm test`. How to read and extend it: docs/testing.md.
//
// One module or a few: npm run test:mutation -- --mutate src/core/http/csrf.ts
// Re-run after adding tests, reusing earlier results: … -- --incremental

/** The modules under mutation (a `:from-to` suffix limits a file to those lines). */
export const MUTATE = [
  // CSRF and the return-to rule
  'src/core/http/csrf.ts',
  'src/core/http/return-to.ts',
  // The gate and the session policy
  'src/core/http/gate.ts',
  'src/core/session-policy.ts',
  'src/core/http/session-state.ts',
  'src/core/http/session-facts.ts',
  // The failure budget, in TypeScript and behind the Lua-backed stores
  'src/core/failure-budget.ts',
  'src/core/ip-limit.ts',
  'src/stores/memory-guard-store.ts',
  'src/stores/redis-guard-store.ts',
  // Only the TypeScript of redis-scripts.ts (script hashing, EVALSHA → EVAL
  // fallback): the Lua inside its template strings is one string literal to
  // Stryker. Its rules are mutated by `npm run test:mutation:lua` instead.
  'src/stores/redis-scripts.ts:13-27',
  // Backup-code consumption: the codes, and the backup branch of factor-check.ts
  // (the dispatch in judge() and checkBackupCode()).
  'src/core/backup-codes.ts',
  'src/core/factor-check.ts:43-47',
  'src/core/factor-check.ts:64-81',
  // Enrolment limits
  'src/core/enrolment.ts',
  // Step-up
  'src/core/http/step-up.ts',
];

/** The tests that can kill them: everything but the browser and packaging suites (slow, and they cover nothing more here). */
const SPEC = ['account', 'core', 'examples', 'express', 'http', 'koa', 'policy', 'security', 'stores', 'views']
  .map((dir) => `test/${dir}/**/*.test.ts`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: MUTATE,
  testRunner: 'mocha',
  mochaOptions: {
    'no-config': true,
    spec: SPEC,
    extension: ['ts'],
  },
  // Mocha runs in Stryker's worker process: tsx must be loaded there
  // (the `node-option` of .mocharc.json only applies to the mocha CLI).
  testRunnerNodeArgs: ['--import', 'tsx', '--import', './stryker/node-hooks.mjs'],
  // Each mutant runs only the tests that reached it in the dry run.
  coverageAnalysis: 'perTest',
  // Type errors are not mutants worth a test run: TypeScript 7's native
  // compiler checks them (see stryker/node-hooks.mjs).
  checkers: ['typescript'],
  checkerNodeArgs: ['--import', './stryker/node-hooks.mjs'],
  tsconfigFile: 'tsconfig.stryker.json',
  typescriptChecker: { experimentalNativePreview: true, prioritizePerformanceOverAccuracy: true },
  // 2 cores: two workers (test runners; the checker runs before them).
  concurrency: 2,
  // Redis tests start redis-server processes and some wait for a TOTP step
  // boundary (up to 3 s): a mutant is a timeout only past 1.5 × its tests'
  // dry-run time + 15 s.
  timeoutMS: 15000,
  timeoutFactor: 1.5,
  // Worker processes are reused; restart one now and then (memory, leaked servers).
  maxTestRunnerReuse: 200,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  ignorePatterns: ['dist', 'test-output', 'reports'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  incrementalFile: 'reports/stryker-incremental.json',
  thresholds: { high: 95, low: 90, break: null },
};
