// `npm run test:timing`: the tests whose assertions read the real clock (named `... [real clock]`, declared with
// itTiming from test/helpers.ts). Kept out of the default run, where a loaded machine would make them flaky.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Only the files that declare such tests (loading the others would just list every test as skipped).
const files = readdirSync('test')
  .filter((f) => f.endsWith('.test.ts') && readFileSync(join('test', f), 'utf8').includes('itTiming('))
  .map((f) => `test/${f}`);

export default defineConfig({
  test: {
    include: files,
    testNamePattern: /\[real clock\]/,
    env: { SIMDTENSOR_TIMING_TESTS: '1' },
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
