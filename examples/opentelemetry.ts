/**
 * Recipe: hilok's diagnostics_channel events → OpenTelemetry spans and metrics. hilok itself
 * never depends on OpenTelemetry; copy this file (about 60 lines) into your app.
 *
 *   const stop = instrumentHilok({ tracer: trace.getTracer('app'), meter: metrics.getMeter('app') });
 *
 * Spans: `hilok.acquire` (call → grant, or → failure with error status) and `hilok.hold`
 * (grant → release). Metrics: `hilok.acquire.duration` and `hilok.handoff.latency` histograms
 * (ms), `hilok.lock.lost` counter — all with `hilok.kind` and `hilok.resource` attributes.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { SpanStatusCode, type Meter, type Tracer } from '@opentelemetry/api';
import type { AcquireEvent, AcquireFailedEvent, HandoffEvent, LostEvent, ReleaseEvent } from '@hilok/core';

/** Attach the handlers; returns a function that detaches them. */
export function instrumentHilok({ tracer, meter }: { tracer: Tracer; meter: Meter }): () => void {
  const acquireDuration = meter.createHistogram('hilok.acquire.duration', { unit: 'ms', description: 'call to grant' });
  const handoffLatency = meter.createHistogram('hilok.handoff.latency', { unit: 'ms', description: 'release message to grant' });
  const lost = meter.createCounter('hilok.lock.lost', { description: 'leases found lost' });
  const attrs = (e: { kind: string; resource: string; detail?: Record<string, unknown> }) => ({
    'hilok.kind': e.kind,
    'hilok.resource': e.resource,
    ...(e.detail?.mode ? { 'hilok.mode': String(e.detail.mode) } : {}),
  });
  // Events carry durations, so spans are recorded after the fact with explicit start times.
  const span = (name: string, durationMs: number, attributes: Record<string, string | number | boolean>, error?: unknown) => {
    const end = Date.now();
    const s = tracer.startSpan(name, { startTime: end - durationMs, attributes });
    if (error !== undefined) s.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    s.end(end);
  };

  const handlers: Record<string, (message: unknown) => void> = {
    'hilok:acquire': (m) => {
      const e = m as AcquireEvent;
      acquireDuration.record(e.durationMs, { ...attrs(e), 'hilok.waited': e.waited });
      span('hilok.acquire', e.durationMs, { ...attrs(e), 'hilok.fence': e.fence, 'hilok.attempts': e.attempts, 'hilok.waited': e.waited });
    },
    'hilok:acquire-failed': (m) => {
      const e = m as AcquireFailedEvent;
      const code = (e.error as { code?: string } | undefined)?.code ?? 'ERROR';
      span('hilok.acquire', e.durationMs, { ...attrs(e), 'hilok.error': code }, e.error);
    },
    'hilok:handoff': (m) => handoffLatency.record((m as HandoffEvent).latencyMs, attrs(m as HandoffEvent)),
    'hilok:release': (m) => {
      const e = m as ReleaseEvent;
      span('hilok.hold', e.heldMs, { ...attrs(e), 'hilok.fence': e.fence, 'hilok.released': e.released });
    },
    'hilok:lost': (m) => lost.add(1, attrs(m as LostEvent)),
  };
  for (const [name, handler] of Object.entries(handlers)) subscribe(name, handler);
  return () => {
    for (const [name, handler] of Object.entries(handlers)) unsubscribe(name, handler);
  };
}
