import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { HiLok, LockBusyError, Mutex } from '@hilok/ioredis';
import { startRedis, type RedisServer } from '@hilok/testing';
import { instrumentHilok } from '../opentelemetry.js';

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

it('publishes wait / acquire / handoff / extend / release / lost / acquire-failed on diagnostics_channel', async () => {
  const seen: { name: string; message: Record<string, unknown> }[] = [];
  const names = ['hilok:wait', 'hilok:acquire', 'hilok:handoff', 'hilok:acquire-failed', 'hilok:extend', 'hilok:release', 'hilok:lost'];
  const handlers = names.map((name) => [name, (message: unknown) => seen.push({ name, message: message as Record<string, unknown> })] as const);
  for (const [name, h] of handlers) subscribe(name, h);
  const mutex = new Mutex(redis, { ttl: 5_000 });
  try {
    const a = await mutex.acquire('diag');
    const waiting = mutex.acquire('diag', { timeout: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    await a.extend();
    await a.release();
    const b = await waiting;
    await expect(mutex.acquire('diag', { block: false })).rejects.toBeInstanceOf(LockBusyError);
    await redis.del('hilok:mutex:{diag}');
    await expect(b.extend()).rejects.toThrow();
  } finally {
    for (const [name, h] of handlers) unsubscribe(name, h);
    await mutex.close();
  }
  const byName = (n: string) => seen.filter((e) => e.name === n).map((e) => e.message);
  expect(byName('hilok:acquire')).toHaveLength(2);
  expect(byName('hilok:acquire')[1]).toMatchObject({ kind: 'Mutex', resource: 'diag', waited: true });
  expect(byName('hilok:wait')[0]).toMatchObject({ kind: 'Mutex', resource: 'diag' });
  expect(byName('hilok:handoff')).toHaveLength(1);
  expect(byName('hilok:handoff')[0]!.latencyMs).toBeGreaterThanOrEqual(0);
  expect(byName('hilok:extend').map((e) => e.ok)).toEqual([true, false]);
  expect(byName('hilok:release')[0]).toMatchObject({ released: true });
  expect(byName('hilok:lost')).toHaveLength(1);
  expect(byName('hilok:acquire-failed')[0]!.error).toBeInstanceOf(LockBusyError);
});

it('the OpenTelemetry recipe turns the events into spans and metrics', async () => {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('test');
  const reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 60_000,
  });
  const meter = new MeterProvider({ readers: [reader] }).getMeter('test');
  const stop = instrumentHilok({ tracer, meter });
  const hilok = new HiLok(redis, { ttl: 5_000 });
  try {
    await hilok.withWrite('otel/a', () => undefined);
    const held = await hilok.read('otel');
    await expect(hilok.write('otel/a', { timeout: 100 })).rejects.toBeInstanceOf(LockBusyError);
    await held.release();
  } finally {
    stop();
    await hilok.close();
  }
  const spans = exporter.getFinishedSpans();
  const acquires = spans.filter((s) => s.name === 'hilok.acquire');
  expect(acquires.length).toBe(3);
  expect(acquires.some((s) => s.status.code === 2 && s.attributes['hilok.error'] === 'LOCK_BUSY')).toBe(true);
  expect(spans.filter((s) => s.name === 'hilok.hold').map((s) => s.attributes['hilok.mode']).sort()).toEqual(['read', 'write']);
  expect(acquires[0]!.attributes).toMatchObject({ 'hilok.kind': 'HiLok', 'hilok.resource': 'otel/a', 'hilok.mode': 'write' });

  const { resourceMetrics } = await reader.collect();
  const metricNames = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name));
  expect(metricNames).toContain('hilok.acquire.duration');
  await reader.shutdown();
});

/** Every data point of the collected metrics, by metric name. */
async function points(reader: PeriodicExportingMetricReader) {
  const { resourceMetrics } = await reader.collect();
  const byName = new Map<string, { attributes: Record<string, unknown>; value: unknown }[]>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const m of scope.metrics) byName.set(m.descriptor.name, m.dataPoints.map((p) => ({ attributes: p.attributes as Record<string, unknown>, value: p.value })));
  }
  return byName;
}

it('the recipe records acquire latency, wait time, holds, lost leases and failures by reason — by kind and name prefix, never the full name', async () => {
  const reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 60_000,
  });
  const meter = new MeterProvider({ readers: [reader] }).getMeter('test');
  const stop = instrumentHilok({ meter });
  const mutex = new Mutex(redis, { ttl: 5_000 });
  const hilok = new HiLok(redis, { ttl: 5_000 });
  const names = ['invoice:42', 'shop/catalog/item-1', 'plain'];
  try {
    // invoice:42 — held, a waiter handed the lock, a busy try, a timeout, then the lease lost.
    const first = await mutex.acquire('invoice:42');
    const waiter = mutex.acquire('invoice:42', { timeout: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    await first.release();
    const second = await waiter;
    await expect(mutex.acquire('invoice:42', { block: false })).rejects.toBeInstanceOf(LockBusyError);
    await expect(mutex.acquire('invoice:42', { timeout: 100 })).rejects.toBeInstanceOf(LockBusyError);
    const whileHeld = await points(reader);
    const holdsNow = (p: typeof whileHeld) => (p.get('hilok.holds') ?? []).filter((d) => d.attributes['hilok.prefix'] === 'invoice').map((d) => d.value);
    expect(holdsNow(whileHeld)).toEqual([1]);
    await redis.del('hilok:mutex:{invoice:42}');
    await expect(second.extend()).rejects.toThrow();
    await second.release().catch(() => undefined); // a release after the loss does not count twice

    // shop/… — a HiLok write (mode attribute); plain — a name with no prefix.
    await hilok.withWrite('shop/catalog/item-1', () => undefined);
    await mutex.withLock('plain', () => undefined);
  } finally {
    stop();
    await Promise.all([mutex.close(), hilok.close()]);
  }
  const p = await points(reader);
  const find = (metric: string, attrs: Record<string, unknown>) =>
    (p.get(metric) ?? []).filter((d) => Object.entries(attrs).every(([k, v]) => d.attributes[k] === v));

  // Acquire latency: every grant, by kind / prefix (/ mode); wait time: the one that waited.
  const acquires = find('hilok.acquire.duration', { 'hilok.kind': 'Mutex', 'hilok.prefix': 'invoice' });
  expect(acquires.reduce((n, d) => n + (d.value as { count: number }).count, 0)).toBe(2);
  const waits = find('hilok.acquire.wait', { 'hilok.kind': 'Mutex', 'hilok.prefix': 'invoice' });
  expect(waits.map((d) => (d.value as { count: number }).count)).toEqual([1]);
  expect((waits[0]!.value as { sum: number }).sum).toBeGreaterThan(0);
  expect(find('hilok.acquire.duration', { 'hilok.kind': 'HiLok', 'hilok.prefix': 'shop', 'hilok.mode': 'write' })).toHaveLength(1);
  expect(find('hilok.acquire.duration', { 'hilok.kind': 'Mutex', 'hilok.prefix': '(none)' })).toHaveLength(1);
  // Holds: back to 0 everywhere once released or lost (the lost one counted once).
  for (const d of p.get('hilok.holds') ?? []) expect(d.value, JSON.stringify(d.attributes)).toBe(0);
  expect(find('hilok.holds', { 'hilok.prefix': 'invoice' })).toHaveLength(1);
  // Lost leases and failures by reason.
  expect(find('hilok.lock.lost', { 'hilok.kind': 'Mutex', 'hilok.prefix': 'invoice' }).map((d) => d.value)).toEqual([1]);
  expect(find('hilok.acquire.failures', { 'hilok.prefix': 'invoice', 'hilok.reason': 'busy' }).map((d) => d.value)).toEqual([1]);
  expect(find('hilok.acquire.failures', { 'hilok.prefix': 'invoice', 'hilok.reason': 'timeout' }).map((d) => d.value)).toEqual([1]);
  // Low cardinality: no data point of any metric carries a full lock name.
  for (const [, data] of p) for (const d of data) for (const v of Object.values(d.attributes)) expect(names).not.toContain(v);
  await reader.shutdown();
});

it('the name prefix is configurable (prefixOf)', async () => {
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 60_000 });
  const stop = instrumentHilok({ meter: new MeterProvider({ readers: [reader] }).getMeter('test'), prefixOf: (name) => name.split('.')[0] ?? name });
  const mutex = new Mutex(redis, { ttl: 5_000 });
  try {
    await mutex.withLock('billing.run-7', () => undefined);
  } finally {
    stop();
    await mutex.close();
  }
  const p = await points(reader);
  expect((p.get('hilok.acquire.duration') ?? []).map((d) => d.attributes['hilok.prefix'])).toEqual(['billing']);
  await reader.shutdown();
});
