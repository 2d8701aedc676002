/**
 * `@hilok/faults`: the reliability suite — an event recorder, a history checker (mutual
 * exclusion per the lock kind's conflict rule, fencing order, lost updates, call bounds) and
 * fault-injection scenario runners against real redis-servers.
 * @packageDocumentation
 */
export { Recorder, now, toEpoch, type HistoryEvent, type EventType } from './recorder.js';
export { conflicts, isAncestor, conflictGroup, conflictGroups, namesOf, partsOf, pathsConflict, pathsTarget, multiTarget, semaphoreTarget, targetFields, type LockTarget, type PathPart } from './conflict.js';
export { checkHistory, holdsOf, assertClean, type CheckResult, type CheckOptions, type Violation, type HoldInterval, type SignalLead } from './checker.js';
export { FencedResource, RmwCounter, CounterStore, FENCED_WRITE_LUA, type SharedCounter } from './resource.js';
export { Actor, targetsFor, kindTag, SEMAPHORE_LIMIT, type ScenarioKind, type ActorOptions, type ActorAcquireOptions, type ActorHold } from './actor.js';
export { spawnWorker, spawnScript, type WorkerHandle } from './process.js';
export * from './scenarios.js';
export { fuzzSchedule, type FuzzOptions, type FuzzReport } from './fuzz.js';
export { RecordingClient, errorName, recordGrant, rmwIncrement, type AnyLease, type LockDriver, type RecordedHold } from './client.js';
export * from './load.js';
export * from './redlock-client.js';
export * from './redlock.js';
export * from './cluster.js';
export * from './outofmodel.js';
export * from './partition.js';
