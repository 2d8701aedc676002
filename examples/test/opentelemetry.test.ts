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
