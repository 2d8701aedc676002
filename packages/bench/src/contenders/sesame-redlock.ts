import { Redlock } from '@sesamecare-oss/redlock';
import { redlockApiContender, type RedlockV5Api } from './redlock-api.js';

/** Package and version of the @sesamecare-oss/redlock contender. */
export const SESAME_PACKAGE = '@sesamecare-oss/redlock@1.4.0';

/** An `@sesamecare-oss/redlock` instance over `clients`. */
export const makeSesameRedlock = (clients: never[], settings: object): RedlockV5Api => new Redlock(clients, settings) as never;

/** `@sesamecare-oss/redlock` (the maintained fork of redlock v5) on one ioredis client. */
export const sesameRedlock = redlockApiContender('@sesamecare-oss/redlock', SESAME_PACKAGE, makeSesameRedlock);
