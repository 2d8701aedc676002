import { channel } from 'node:diagnostics_channel';

/**
 * Lock events on Node's `diagnostics_channel` — the convention undici and node-redis follow —
 * so tracing and metrics can be attached without hilok depending on any telemetry library.
 * Publishing is skipped entirely when a channel has no subscriber.
 *
 * | channel | when | payload |
 * | --- | --- | --- |
 * | `hilok:wait` | an acquire found the lock busy and starts waiting | {@link WaitEvent} |
 * | `hilok:acquire` | a hold was granted | {@link AcquireEvent} |
 * | `hilok:handoff` | a waiter woken by a release message got the hold | {@link HandoffEvent} |
 * | `hilok:acquire-failed` | an acquire gave up (busy, timeout, abort, Redis down) | {@link AcquireFailedEvent} |
 * | `hilok:extend` | a lease was extended (or found lost doing so) | {@link ExtendEvent} |
 * | `hilok:release` | a lease was released | {@link ReleaseEvent} |
 * | `hilok:lost` | a lease was found lost | {@link LostEvent} |
 */
export const diagnostics = {
  wait: channel('hilok:wait'),
  acquire: channel('hilok:acquire'),
  handoff: channel('hilok:handoff'),
  acquireFailed: channel('hilok:acquire-failed'),
  extend: channel('hilok:extend'),
  release: channel('hilok:release'),
  lost: channel('hilok:lost'),
} as const;

/** Fields every event has. */
export interface LockEventBase {
  /** Lock kind: the manager's class name (`Mutex`, `HiLok`, `FairLock`, …). */
  kind: string;
  /** Lock name or path. */
  resource: string;
  /** Extra fields of the kind, e.g. `{ mode: 'read' }` for HiLok holds. */
  detail?: Record<string, unknown>;
}
/** Payload of `hilok:wait`. */
export interface WaitEvent extends LockEventBase {
  /** Ms the blocking holder's lease had left. */
  retryAfter: number;
}
/** Payload of `hilok:acquire`. */
export interface AcquireEvent extends LockEventBase {
  fence: number;
  /** Ms from the call to the grant (0 for an uncontended acquire). */
  durationMs: number;
  /** Whether the acquire had to wait. */
  waited: boolean;
  /** Script calls it took. */
  attempts: number;
}
/** Payload of `hilok:handoff`. */
export interface HandoffEvent extends LockEventBase {
  fence: number;
  /** Ms from the release message reaching this process to the grant. */
  latencyMs: number;
}
/** Payload of `hilok:acquire-failed`. */
export interface AcquireFailedEvent extends LockEventBase {
  error: unknown;
  durationMs: number;
}
/** Payload of `hilok:extend`. */
export interface ExtendEvent extends LockEventBase {
  token: string;
  ttl: number;
  /** False when the extension found the lease lost. */
  ok: boolean;
  durationMs: number;
}
/** Payload of `hilok:release`. */
export interface ReleaseEvent extends LockEventBase {
  token: string;
  fence: number;
  /** True if this release removed the hold; false if it was already gone. */
  released: boolean;
  /** Ms the lease was held (from the acquire request). */
  heldMs: number;
  durationMs: number;
}
/** Payload of `hilok:lost`. */
export interface LostEvent extends LockEventBase {
  token: string;
  fence: number;
  error: unknown;
}

/** Publish `message` on `ch` only if someone listens (building the payload costs nothing otherwise). */
export function emit<T>(ch: (typeof diagnostics)[keyof typeof diagnostics], message: () => T): void {
  if (ch.hasSubscribers) ch.publish(message());
}
