import { describeAdapterContract, describeClusterSuite, describeHiLokSuite, describeMutexSuite } from '@hilok/contract-tests';
import { ioredis6Resp2 } from './drivers.js';

describeAdapterContract(ioredis6Resp2);
describeMutexSuite(ioredis6Resp2);
describeHiLokSuite(ioredis6Resp2);
describeClusterSuite(ioredis6Resp2);
