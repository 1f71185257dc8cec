import { defineConfig } from 'vitest/config';

/**
 * The integration tier: real SDK calls over HTTP against moto_server, started
 * on 127.0.0.1 by the global setup. Skips with a message where moto is absent.
 */
export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/integration/**/*.test.ts'],
    setupFiles: ['test/setup.ts', 'test/integration/teardown.ts'],
    globalSetup: ['test/integration/global-setup.ts'],
    // One moto server is shared; files run one after another against it.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
      // The SDK's notice that its 2027 releases need Node 22 (README,
      // "Prerequisites") says nothing about the code under test.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
