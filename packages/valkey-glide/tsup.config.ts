import { hilokTsup } from '../../tsup.base.js';

export default hilokTsup();
