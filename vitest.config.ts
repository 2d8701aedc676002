import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests run against the TypeScript sources (the built packages are checked by publint, attw
// and the pack test); the Lua scripts must be compiled first.
execFileSync(process.execPath, [here('./packages/core/scripts/build-lua.mjs')], { stdio: 'ignore' });

export default defineConfig({
  resolve: {
    alias: {
      // The more specific alias first: '@hilok/core' would also match '@hilok/core/internal'.
      '@hilok/core/internal': here('./packages/core/src/internal.ts'),
      '@hilok/core': here('./packages/core/src/index.ts'),
      '@hilok/ioredis': here('./packages/ioredis/src/index.ts'),
      '@hilok/node-redis': here('./packages/node-redis/src/index.ts'),
      '@hilok/valkey-glide': here('./packages/valkey-glide/src/index.ts'),
      '@hilok/redlock': here('./packages/redlock/src/index.ts'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 3,
    reporters: ['default'],
  },
});
