import { describeAdapterContract, describeClusterSuite, describeFamilySuite, describeHiLokSuite, describeLivenessSuite, describeMutexSuite } from '@hilok/contract-tests';
import { describeLostLockSuite } from '@hilok/contract-tests';
import { describeDeadlineSuite } from '@hilok/contract-tests';
import { describeSemaphoreSuite } from '@hilok/contract-tests';
import { ioredis6 } from './drivers.js';
import { describeOwnerSuite } from '@hilok/contract-tests';

describeAdapterContract(ioredis6);
describeMutexSuite(ioredis6);
describeLivenessSuite(ioredis6);
describeHiLokSuite(ioredis6);
describeFamilySuite(ioredis6);
describeClusterSuite(ioredis6);
describeLostLockSuite(ioredis6);
describeDeadlineSuite(ioredis6);
describeSemaphoreSuite(ioredis6);
describeOwnerSuite(ioredis6);
