import { describeAdapterContract, describeClusterSuite, describeFamilySuite, describeHiLokSuite, describeLivenessSuite, describeMutexSuite } from '@hilok/contract-tests';
import { describeLostLockSuite } from '@hilok/contract-tests';
import { describeDeadlineSuite } from '@hilok/contract-tests';
import { describeSemaphoreSuite } from '@hilok/contract-tests';
import { nodeRedis5Resp3 } from './drivers.js';
import { describeOwnerSuite } from '@hilok/contract-tests';

describeAdapterContract(nodeRedis5Resp3);
describeMutexSuite(nodeRedis5Resp3);
describeLivenessSuite(nodeRedis5Resp3);
describeHiLokSuite(nodeRedis5Resp3);
describeFamilySuite(nodeRedis5Resp3);
describeClusterSuite(nodeRedis5Resp3);
describeLostLockSuite(nodeRedis5Resp3);
describeDeadlineSuite(nodeRedis5Resp3);
describeSemaphoreSuite(nodeRedis5Resp3);
describeOwnerSuite(nodeRedis5Resp3);
