import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The example imports the library by its package name, as an app does.
  resolve: { alias: { mvfleet: fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests: each file owns a database and spawns processes; two cores here.
    pool: 'forks',
    maxWorkers: 2,
  },
});
