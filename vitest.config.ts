import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'tests/**/*.test.tsx', 'renderer/src/**/*.test.tsx', 'e2e/**/*.test.ts'],
    // Hang guards, not verdicts: generous so that a machine running other suites too (CI runners, two
    // `npm test` side by side) is never a failure. No test may judge by the clock (timings go in `npm run bench*`).
    testTimeout: 900_000,
    hookTimeout: 900_000,
    // Model tests are CPU-bound; two cores means more forks only thrash.
    pool: 'forks',
    maxWorkers: 2,
  },
});
