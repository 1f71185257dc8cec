import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    // The integration tier needs moto_server and runs through its own script.
    exclude: ['test/integration/**', 'node_modules/**'],
    setupFiles: ['test/setup.ts'],
    // Test files in a worker share one module cache: loading the AWS SDK once
    // per worker rather than once per file cuts the suite's time by half.
    // test/setup.ts restores SDK stubs after each file so none leaks.
    isolate: false,
    // Keep Powertools quiet and local: no log lines, no EMF output, no X-Ray.
    env: {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_DEV: 'false',
      // The SDK's notice that its 2027 releases need Node 22 (README,
      // "Prerequisites") says nothing about the code under test.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    // Synthesizing the stack takes a few seconds on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
