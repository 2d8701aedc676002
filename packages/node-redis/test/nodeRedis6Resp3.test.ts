import { describeAdapterContract, describeClusterSuite, describeFamilySuite, describeHiLokSuite, describeLivenessSuite, describeMutexSuite } from '@hilok/contract-tests';
import { describeLostLockSuite } from '@hilok/contract-tests';
import { describeDeadlineSuite } from '@hilok/contract-tests';
import { describeSemaphoreSuite } from '@hilok/contract-tests';
import { nodeRedis6Resp3 } from './drivers.js';
import { describeOwnerSuite } from '@hilok/contract-tests';

describeAdapterContract(nodeRedis6Resp3);
describeMutexSuite(nodeRedis6Resp3);
describeLivenessSuite(nodeRedis6Resp3);
describeHiLokSuite(nodeRedis6Resp3);
describeFamilySuite(nodeRedis6Resp3);
describeClusterSuite(nodeRedis6Resp3);
describeLostLockSuite(nodeRedis6Resp3);
describeDeadlineSuite(nodeRedis6Resp3);
describeSemaphoreSuite(nodeRedis6Resp3);
describeOwnerSuite(nodeRedis6Resp3);
