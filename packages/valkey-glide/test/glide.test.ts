import {
  describeAdapterContract,
  describeClusterSuite,
  describeDeadlineSuite,
  describeFamilySuite,
  describeHiLokSuite,
  describeLivenessSuite,
  describeLostLockSuite,
  describeMutexSuite,
} from '@hilok/contract-tests';
import { glide } from './drivers.js';

describeAdapterContract(glide);
describeMutexSuite(glide);
describeLivenessSuite(glide);
describeHiLokSuite(glide);
describeFamilySuite(glide);
describeClusterSuite(glide);
describeLostLockSuite(glide);
describeDeadlineSuite(glide);
