import { hilokTsup } from '../../tsup.base.js';

// Two entry points sharing one copy of every module (splitting, for CommonJS too): an error class
// or registry loaded through `@hilok/core/internal` is the one `@hilok/core` exports.
export default hilokTsup({ entry: ['src/index.ts', 'src/internal.ts'], splitting: true });
