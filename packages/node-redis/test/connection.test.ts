import { describeConnectionSuite } from '@hilok/contract-tests';
import { nodeRedis5Resp2, nodeRedis5Resp3, nodeRedis6Resp2, nodeRedis6Resp3 } from './drivers.js';

for (const driver of [nodeRedis5Resp2, nodeRedis5Resp3, nodeRedis6Resp2, nodeRedis6Resp3]) describeConnectionSuite(driver);
