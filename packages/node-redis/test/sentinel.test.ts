import { describeSentinelSuite } from '@hilok/contract-tests';
import { nodeRedis5Resp2, nodeRedis6Resp3 } from './drivers.js';

describeSentinelSuite(nodeRedis5Resp2);
describeSentinelSuite(nodeRedis6Resp3);
