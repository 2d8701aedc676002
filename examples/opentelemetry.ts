/**
 * Recipe: hilok's diagnostics_channel events → OpenTelemetry spans and metrics. hilok itself
 * never depends on OpenTelemetry; copy this file and lock-metrics.ts (about 150 lines) into your app.
 *
 *   const stop = instrumentHilok({ tracer: trace.getTracer('app'), meter: metrics.getMeter('app') });
 *
 * Spans: `hilok.acquire` (call → grant, or → failure with error status) and `hilok.hold`
 * (grant → release), with the full lock name (`hilok.resource`).
 *
 * Metrics, all with the attributes `hilok.kind` (Mutex, HiLok, FairLock, …), `hilok.prefix` (the
 * name's prefix: low cardinality, see `prefixOf`) and `hilok.mode` where there is one (read / write):
 * - `hilok.acquire.duration` histogram (ms): call → grant, every granted acquire (`hilok.waited`)
 * - `hilok.acquire.wait` histogram (ms): call → grant of the acquires that had to wait
 * - `hilok.handoff.latency` histogram (ms): a release message reaching this process → the grant
 * - `hilok.holds` up-down counter: leases this process holds now (+1 granted, -1 released or lost)
 * - `hilok.lock.lost` counter: leases found lost (watchdog, extend, ttl ran out)
 * - `hilok.acquire.failures` counter, by `hilok.reason`: timeout, busy, aborted, redis_unavailable, closed, error
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { SpanStatusCode, type Meter, type Tracer } from '@opentelemetry/api';
import type { AcquireEvent, AcquireFailedEvent, HandoffEvent, LostEvent, ReleaseEvent } from '@hilok/core';
import { HoldTracker, failureReason, lockAttributes, namePrefix, type PrefixOf } from './lock-metrics.js';

export { namePrefix, type PrefixOf } from './lock-metrics.js';

/** What {@link instrumentHilok} reports to. */
export interface InstrumentOptions {
  /** Spans (leave out for metrics only). */
  tracer?: Tracer;
  /** Metrics (leave out for spans only). */
  meter?: Meter;
  /** The `hilok.prefix` attribute of a lock name (default {@link namePrefix}: before the first ':' or '/'). */
  prefixOf?: PrefixOf;
}

/** Attach the handlers; returns a function that detaches them. */
export function instrumentHilok({ tracer, meter, prefixOf = namePrefix }: InstrumentOptions): () => void {
  const acquireDuration = meter?.createHistogram('hilok.acquire.duration', { unit: 'ms', description: 'call to grant' });
  const waitTime = meter?.createHistogram('hilok.acquire.wait', { unit: 'ms', description: 'call to grant, of acquires that waited' });
  const handoffLatency = meter?.createHistogram('hilok.handoff.latency', { unit: 'ms', description: 'release message to grant' });
  const holds = meter?.createUpDownCounter('hilok.holds', { description: 'leases held by this process now' });
  const lost = meter?.createCounter('hilok.lock.lost', { description: 'leases found lost' });
  const failures = meter?.createCounter('hilok.acquire.failures', { description: 'acquires that gave up, by reason' });
  // Metric attributes: kind, prefix, mode — never the full name (one time series per lock).
  const attrs = (e: { kind: string; resource: string; detail?: Record<string, unknown> }) =>
    Object.fromEntries(Object.entries(lockAttributes(e, prefixOf)).map(([k, v]) => [`hilok.${k}`, v]));
  const tracker = new HoldTracker((delta, attributes) => holds?.add(delta, attributes));
  // Span attributes may carry the full name: a span is one event, not a time series.
  const spanAttrs = (e: { kind: string; resource: string; detail?: Record<string, unknown> }) => ({ ...attrs(e), 'hilok.resource': e.resource });
  // Events carry durations, so spans are recorded after the fact with explicit start times.
  const span = (name: string, durationMs: number, attributes: Record<string, string | number | boolean>, error?: unknown) => {
    if (!tracer) return;
    const end = Date.now();
    const s = tracer.startSpan(name, { startTime: end - durationMs, attributes });
    if (error !== undefined) s.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    s.end(end);
  };

  const handlers: Record<string, (message: unknown) => void> = {
    'hilok:acquire': (m) => {
      const e = m as AcquireEvent;
      acquireDuration?.record(e.durationMs, { ...attrs(e), 'hilok.waited': e.waited });
      if (e.waited) waitTime?.record(e.durationMs, attrs(e));
      tracker.acquired(e, attrs(e));
      span('hilok.acquire', e.durationMs, { ...spanAttrs(e), 'hilok.fence': e.fence, 'hilok.attempts': e.attempts, 'hilok.waited': e.waited });
    },
    'hilok:acquire-failed': (m) => {
      const e = m as AcquireFailedEvent;
      failures?.add(1, { ...attrs(e), 'hilok.reason': failureReason(e.error) });
      const code = (e.error as { code?: string } | undefined)?.code ?? 'ERROR';
      span('hilok.acquire', e.durationMs, { ...spanAttrs(e), 'hilok.error': code }, e.error);
    },
    'hilok:handoff': (m) => handoffLatency?.record((m as HandoffEvent).latencyMs, attrs(m as HandoffEvent)),
    'hilok:release': (m) => {
      const e = m as ReleaseEvent;
      tracker.released(e);
      span('hilok.hold', e.heldMs, { ...spanAttrs(e), 'hilok.fence': e.fence, 'hilok.released': e.released });
    },
    'hilok:lost': (m) => {
      const e = m as LostEvent;
      lost?.add(1, attrs(e));
      tracker.lost(e);
    },
  };
  for (const [name, handler] of Object.entries(handlers)) subscribe(name, handler);
  return () => {
    for (const [name, handler] of Object.entries(handlers)) unsubscribe(name, handler);
  };
}
