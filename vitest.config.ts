import { defineConfig } from 'vitest/config';

// Integration tests start real peers (Jaeger, the sensor, agent frameworks): run files one at a time
// so ports and the 2-core machine are not oversubscribed, and give them room to start.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'test/apps/**'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // One temp directory per run, removed at its end (test/support/run-temp-dir.ts).
    globalSetup: ['test/support/run-temp-dir.ts'],
    // The JSON report lets .ci/run print one plain "N passed, N failed" closing line.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
