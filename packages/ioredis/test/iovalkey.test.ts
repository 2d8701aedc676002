import { describeAdapterContract, describeClusterSuite, describeFamilySuite, describeHiLokSuite, describeLivenessSuite, describeMutexSuite } from '@hilok/contract-tests';
import { describeLostLockSuite } from '@hilok/contract-tests';
import { describeDeadlineSuite } from '@hilok/contract-tests';
import { describeConnectionSuite } from '@hilok/contract-tests';
import { describeSemaphoreSuite } from '@hilok/contract-tests';
import { iovalkey } from './drivers.js';
import { describeOwnerSuite } from '@hilok/contract-tests';

describeAdapterContract(iovalkey);
describeMutexSuite(iovalkey);
describeLivenessSuite(iovalkey);
describeHiLokSuite(iovalkey);
describeFamilySuite(iovalkey);
describeClusterSuite(iovalkey);
describeLostLockSuite(iovalkey);
describeDeadlineSuite(iovalkey);
describeConnectionSuite(iovalkey);
describeSemaphoreSuite(iovalkey);
describeOwnerSuite(iovalkey);
