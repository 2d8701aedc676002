import { Redlock } from '@sesamecare-oss/redlock';
import { redlockApiContender } from './redlock-api.js';

/** `@sesamecare-oss/redlock` (the maintained fork of redlock v5) on one ioredis client. */
export const sesameRedlock = redlockApiContender(
  '@sesamecare-oss/redlock',
  '@sesamecare-oss/redlock@1.4.0',
  (client, settings) => new Redlock([client], settings) as never,
);
