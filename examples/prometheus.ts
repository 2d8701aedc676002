/**
 * Recipe: hilok's diagnostics_channel events → Prometheus metrics with prom-client, served on
 * /metrics. hilok itself never depends on prom-client; copy this file and lock-metrics.ts.
 *
 *   const registry = new Registry();
 *   const stop = instrumentHilokPrometheus({ registry });
 *   const server = await serveMetrics(registry, { port: 9464 }); // http://127.0.0.1:9464/metrics
 *
 * Metrics, all with the labels `kind` (Mutex, HiLok, FairLock, …), `prefix` (the name's prefix:
 * low cardinality, see `prefixOf`) and `mode` where there is one (read / write):
 * - `hilok_acquire_duration_seconds` histogram: call → grant, every granted acquire
 * - `hilok_acquire_wait_seconds` histogram: call → grant of the acquires that had to wait
 * - `hilok_handoff_latency_seconds` histogram: a release message reaching this process → the grant
 * - `hilok_holds` gauge: leases this process holds now
 * - `hilok_lost_leases_total` counter: leases found lost (watchdog, extend, ttl ran out)
 * - `hilok_acquire_failures_total` counter, with `reason`: timeout, busy, aborted, redis_unavailable, closed, error
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AcquireEvent, AcquireFailedEvent, HandoffEvent, LostEvent, ReleaseEvent } from '@hilok/core';
import { HoldTracker, failureReason, lockAttributes, namePrefix, type PrefixOf } from './lock-metrics.js';

/** The metrics this recipe registers. */
const NAMES = ['hilok_acquire_duration_seconds', 'hilok_acquire_wait_seconds', 'hilok_handoff_latency_seconds', 'hilok_holds', 'hilok_lost_leases_total', 'hilok_acquire_failures_total'];

/** Buckets (seconds) for lock waits: 1 ms to 30 s. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Register hilok's metrics in `registry` and feed them from the lock events; returns a function that detaches them. */
export function instrumentHilokPrometheus({ registry, prefixOf = namePrefix }: { registry: Registry; prefixOf?: PrefixOf }): () => void {
  const labelNames = ['kind', 'prefix', 'mode'] as const;
  const registers = [registry];
  const acquireDuration = new Histogram({ name: 'hilok_acquire_duration_seconds', help: 'hilok acquire: call to grant', labelNames, buckets: BUCKETS, registers });
  const waitTime = new Histogram({ name: 'hilok_acquire_wait_seconds', help: 'hilok acquire: call to grant, of acquires that waited', labelNames, buckets: BUCKETS, registers });
  const handoff = new Histogram({ name: 'hilok_handoff_latency_seconds', help: 'hilok: release message to grant', labelNames, buckets: BUCKETS, registers });
  const holds = new Gauge({ name: 'hilok_holds', help: 'hilok leases held by this process now', labelNames, registers });
  const lost = new Counter({ name: 'hilok_lost_leases_total', help: 'hilok leases found lost', labelNames, registers });
  const failures = new Counter({ name: 'hilok_acquire_failures_total', help: 'hilok acquires that gave up, by reason', labelNames: [...labelNames, 'reason'], registers });
  const labels = (e: { kind: string; resource: string; detail?: Record<string, unknown> }) => lockAttributes(e, prefixOf);
  const tracker = new HoldTracker((delta, l) => holds.inc(l, delta));

  const handlers: Record<string, (message: unknown) => void> = {
    'hilok:acquire': (m) => {
      const e = m as AcquireEvent;
      acquireDuration.observe(labels(e), e.durationMs / 1000);
      if (e.waited) waitTime.observe(labels(e), e.durationMs / 1000);
      tracker.acquired(e, labels(e));
    },
    'hilok:acquire-failed': (m) => {
      const e = m as AcquireFailedEvent;
      failures.inc({ ...labels(e), reason: failureReason(e.error) });
    },
    'hilok:handoff': (m) => handoff.observe(labels(m as HandoffEvent), (m as HandoffEvent).latencyMs / 1000),
    'hilok:release': (m) => tracker.released(m as ReleaseEvent),
    'hilok:lost': (m) => {
      lost.inc(labels(m as LostEvent));
      tracker.lost(m as LostEvent);
    },
  };
  for (const [name, handler] of Object.entries(handlers)) subscribe(name, handler);
  return () => {
    for (const [name, handler] of Object.entries(handlers)) unsubscribe(name, handler);
    for (const name of NAMES) registry.removeSingleMetric(name);
  };
}

/**
 * Serve `registry` on `http://host:port/metrics` (default 127.0.0.1 and a free port: loopback
 * only — put a reverse proxy or your app's own server in front to expose it). Resolves once
 * listening; `server.address()` gives the port.
 */
export function serveMetrics(registry: Registry, { port = 0, host = '127.0.0.1' }: { port?: number; host?: string } = {}): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
