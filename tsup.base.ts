import { defineConfig, type Options } from 'tsup';

/**
 * The tsup settings every published package builds with: ESM and CommonJS for Node 20, type
 * declarations, source maps. A package's `tsup.config.ts` passes only what differs (its entries,
 * or ESM only for the CLI).
 */
export function hilokTsup(options: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    ...options,
  });
}
