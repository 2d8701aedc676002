import { describeAdapterContract, describeClusterSuite, describeMutexSuite } from '@hilok/contract-tests';
import { ioredis6 } from './drivers.js';

describeAdapterContract(ioredis6);
describeMutexSuite(ioredis6);
describeClusterSuite(ioredis6);
