/**
 * The suites every hilok adapter runs (keyv-style contract tests): the adapter contract and the
 * lock suites, each parameterised by a {@link DriverCase}.
 * @packageDocumentation
 */
export * from './driver.js';
export { describeAdapterContract, waitUntil } from './adapter-contract.js';
export { describeMutexSuite } from './mutex-suite.js';
export { describeConnectionSuite } from './connection-suite.js';
export { runChild, type ChildExit } from './exit.js';
export { describeLivenessSuite } from './liveness-suite.js';
export { describeClusterSuite } from './cluster-suite.js';
export { describeHiLokSuite } from './hilok-suite.js';
export { describeDeadlineSuite } from './deadline-suite.js';
export { describeFamilySuite } from './family-suite.js';
export { describeLostLockSuite } from './lost-lock-suite.js';
export { checkMutualExclusion, type ExclusionResult } from './exclusion.js';
export { describeSentinelSuite } from './sentinel-suite.js';
export { describeSemaphoreSuite } from './semaphore-suite.js';
export { describeManagedRedisSuite, documentedAcl, scriptCommands } from './managed-suite.js';
export { describeOwnerSuite } from './owner-suite.js';
