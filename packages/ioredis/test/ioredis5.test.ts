import { describeAdapterContract, describeClusterSuite, describeFamilySuite, describeHiLokSuite, describeLivenessSuite, describeMutexSuite } from '@hilok/contract-tests';
import { describeLostLockSuite } from '@hilok/contract-tests';
import { describeDeadlineSuite } from '@hilok/contract-tests';
import { describeSemaphoreSuite } from '@hilok/contract-tests';
import { ioredis5 } from './drivers.js';
import { describeOwnerSuite } from '@hilok/contract-tests';

describeAdapterContract(ioredis5);
describeMutexSuite(ioredis5);
describeLivenessSuite(ioredis5);
describeHiLokSuite(ioredis5);
describeFamilySuite(ioredis5);
describeClusterSuite(ioredis5);
describeLostLockSuite(ioredis5);
describeDeadlineSuite(ioredis5);
describeSemaphoreSuite(ioredis5);
describeOwnerSuite(ioredis5);
