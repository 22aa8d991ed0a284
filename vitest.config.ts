import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'tests/**/*.test.tsx', 'renderer/src/**/*.test.tsx', 'e2e/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Model tests are CPU-bound; two cores means more forks only thrash.
    pool: 'forks',
    maxWorkers: 2,
  },
});
