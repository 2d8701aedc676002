import { hilokTsup } from '../../tsup.base.js';

export default hilokTsup({ entry: ['src/bin.ts', 'src/index.ts'], format: ['esm'], dts: { entry: 'src/index.ts' } });
