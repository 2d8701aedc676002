import { describeAdapterContract, describeClusterSuite, describeFamilySuite, describeHiLokSuite, describeLivenessSuite, describeMutexSuite } from '@hilok/contract-tests';
import { describeLostLockSuite } from '@hilok/contract-tests';
import { describeDeadlineSuite } from '@hilok/contract-tests';
import { describeSemaphoreSuite } from '@hilok/contract-tests';
import { nodeRedis5Resp2 } from './drivers.js';
import { describeOwnerSuite } from '@hilok/contract-tests';

describeAdapterContract(nodeRedis5Resp2);
describeMutexSuite(nodeRedis5Resp2);
describeLivenessSuite(nodeRedis5Resp2);
describeHiLokSuite(nodeRedis5Resp2);
describeFamilySuite(nodeRedis5Resp2);
describeClusterSuite(nodeRedis5Resp2);
describeLostLockSuite(nodeRedis5Resp2);
describeDeadlineSuite(nodeRedis5Resp2);
describeSemaphoreSuite(nodeRedis5Resp2);
describeOwnerSuite(nodeRedis5Resp2);
