import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // `vitest bench` (npm run bench:ops) runs these tinybench suites; `vitest run` only picks up test/**/*.test.ts.
    benchmark: { include: ['bench/suites/**/*.bench.ts'] },
  },
});
