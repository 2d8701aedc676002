import { describeSentinelSuite } from '@hilok/contract-tests';
import { ioredis5, ioredis6, iovalkey } from './drivers.js';

describeSentinelSuite(ioredis5);
describeSentinelSuite(ioredis6);
describeSentinelSuite(iovalkey);
