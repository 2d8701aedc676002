import { describeAdapterContract, describeClusterSuite, describeFamilySuite, describeHiLokSuite, describeLivenessSuite, describeMutexSuite } from '@hilok/contract-tests';
import { describeLostLockSuite } from '@hilok/contract-tests';
import { describeDeadlineSuite } from '@hilok/contract-tests';
import { describeConnectionSuite } from '@hilok/contract-tests';
import { describeSemaphoreSuite } from '@hilok/contract-tests';
import { nodeRedis4 } from './drivers.js';
import { describeOwnerSuite } from '@hilok/contract-tests';

describeAdapterContract(nodeRedis4);
describeMutexSuite(nodeRedis4);
describeLivenessSuite(nodeRedis4);
describeHiLokSuite(nodeRedis4);
describeFamilySuite(nodeRedis4);
describeClusterSuite(nodeRedis4);
describeLostLockSuite(nodeRedis4);
describeDeadlineSuite(nodeRedis4);
describeConnectionSuite(nodeRedis4);
describeSemaphoreSuite(nodeRedis4);
describeOwnerSuite(nodeRedis4);
