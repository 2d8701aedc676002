import { describeConnectionSuite } from '@hilok/contract-tests';
import { ioredis5, ioredis6, ioredis6Resp2 } from './drivers.js';

for (const driver of [ioredis5, ioredis6, ioredis6Resp2]) describeConnectionSuite(driver);
