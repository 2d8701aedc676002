import {
  describeAdapterContract,
  describeClusterSuite,
  describeConnectionSuite,
  describeDeadlineSuite,
  describeFamilySuite,
  describeHiLokSuite,
  describeLivenessSuite,
  describeLostLockSuite,
  describeManagedRedisSuite,
  describeMutexSuite,
  describeSemaphoreSuite,
} from '@hilok/contract-tests';
import { glide } from './drivers.js';
import { describeOwnerSuite } from '@hilok/contract-tests';

describeAdapterContract(glide);
describeMutexSuite(glide);
describeLivenessSuite(glide);
describeHiLokSuite(glide);
describeFamilySuite(glide);
describeClusterSuite(glide);
describeLostLockSuite(glide);
describeDeadlineSuite(glide);
describeSemaphoreSuite(glide);
describeOwnerSuite(glide);
describeManagedRedisSuite(glide);
// Skipped, by design (the DriverCase has no `connectingClient`): GLIDE has no client object that
// connects on its own — `createClient` connects or rejects — and reports a refused or unknown host
// as a connect timeout without a system error code, so the suite's ECONNREFUSED/ENOTFOUND checks
// cannot apply. What a URL manager does on an unreachable server is in client-life.test.ts.
describeConnectionSuite(glide);
