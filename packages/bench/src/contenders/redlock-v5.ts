// @ts-expect-error -- redlock 5.0.0-beta.2's "exports" map hides its .d.ts from NodeNext resolution (runtime import is fine)
import Redlock from 'redlock';
import { redlockApiContender } from './redlock-api.js';

/** `redlock@5.0.0-beta.2` (the v5 API) on one ioredis client. */
export const redlockV5 = redlockApiContender('redlock v5', 'redlock@5.0.0-beta.2', (client, settings) => new Redlock([client], settings));
