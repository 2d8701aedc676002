import { describeAdapterContract, describeClusterSuite, describeFamilySuite, describeHiLokSuite, describeLivenessSuite, describeMutexSuite } from '@hilok/contract-tests';
import { describeLostLockSuite } from '@hilok/contract-tests';
import { describeDeadlineSuite } from '@hilok/contract-tests';
import { describeSemaphoreSuite } from '@hilok/contract-tests';
import { nodeRedis6Resp2 } from './drivers.js';
import { describeOwnerSuite } from '@hilok/contract-tests';

describeAdapterContract(nodeRedis6Resp2);
describeMutexSuite(nodeRedis6Resp2);
describeLivenessSuite(nodeRedis6Resp2);
describeHiLokSuite(nodeRedis6Resp2);
describeFamilySuite(nodeRedis6Resp2);
describeClusterSuite(nodeRedis6Resp2);
describeLostLockSuite(nodeRedis6Resp2);
describeDeadlineSuite(nodeRedis6Resp2);
describeSemaphoreSuite(nodeRedis6Resp2);
describeOwnerSuite(nodeRedis6Resp2);
