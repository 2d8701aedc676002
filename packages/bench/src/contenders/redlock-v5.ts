// @ts-expect-error -- redlock 5.0.0-beta.2's "exports" map hides its .d.ts from NodeNext resolution (runtime import is fine)
import Redlock from 'redlock';
import { redlockApiContender, type RedlockV5Api } from './redlock-api.js';

/** Package and version of the redlock v5 contender. */
export const REDLOCK_V5_PACKAGE = 'redlock@5.0.0-beta.2';

/** A `redlock@5` instance over `clients`. */
export const makeRedlockV5 = (clients: never[], settings: object): RedlockV5Api => new Redlock(clients, settings);

/** `redlock@5.0.0-beta.2` (the v5 API) on one ioredis client. */
export const redlockV5 = redlockApiContender('redlock v5', REDLOCK_V5_PACKAGE, makeRedlockV5);
