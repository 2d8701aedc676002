import { describeAdapterContract, describeClusterSuite, describeFamilySuite, describeHiLokSuite, describeLivenessSuite, describeMutexSuite } from '@hilok/contract-tests';
import { describeLostLockSuite } from '@hilok/contract-tests';
import { describeDeadlineSuite } from '@hilok/contract-tests';
import { describeSemaphoreSuite } from '@hilok/contract-tests';
import { ioredis6Resp2 } from './drivers.js';
import { describeOwnerSuite } from '@hilok/contract-tests';

describeAdapterContract(ioredis6Resp2);
describeMutexSuite(ioredis6Resp2);
describeLivenessSuite(ioredis6Resp2);
describeHiLokSuite(ioredis6Resp2);
describeFamilySuite(ioredis6Resp2);
describeClusterSuite(ioredis6Resp2);
describeLostLockSuite(ioredis6Resp2);
describeDeadlineSuite(ioredis6Resp2);
describeSemaphoreSuite(ioredis6Resp2);
describeOwnerSuite(ioredis6Resp2);
