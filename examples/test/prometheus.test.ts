/** The Prometheus recipe against a real redis-server: lock traffic, then one scrape of /metrics on loopback. */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { HiLok, LockBusyError, Mutex } from '@hilok/ioredis';
import { startRedis, type RedisServer } from '@hilok/testing';
import { instrumentHilokPrometheus, serveMetrics } from '../prometheus.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

it('exposes acquire latency, wait time, holds, lost leases and failures by kind and name prefix on /metrics (loopback)', async () => {
  const registry = new Registry();
  const stop = instrumentHilokPrometheus({ registry });
  const metrics = await serveMetrics(registry);
  const mutex = new Mutex(server.url, { ttl: 5_000 });
  const tree = new HiLok(server.url, { ttl: 5_000 });
  try {
    expect((metrics.address() as AddressInfo).address).toBe('127.0.0.1');
    const first = await mutex.acquire('invoice:42');
    const waiter = mutex.acquire('invoice:42', { timeout: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    await first.release();
    const second = await waiter;
    await expect(mutex.acquire('invoice:42', { timeout: 100 })).rejects.toBeInstanceOf(LockBusyError);
    const held = await tree.read('shop/catalog');

    const { port } = metrics.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const body = await res.text();
    const value = (line: string) => Number(new RegExp(`^${line.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(body)?.[1]);

    expect(value('hilok_acquire_duration_seconds_count{kind="Mutex",prefix="invoice"}')).toBe(2);
    expect(value('hilok_acquire_wait_seconds_count{kind="Mutex",prefix="invoice"}')).toBe(1);
    expect(value('hilok_acquire_wait_seconds_sum{kind="Mutex",prefix="invoice"}')).toBeGreaterThan(0);
    expect(value('hilok_acquire_duration_seconds_count{kind="HiLok",prefix="shop",mode="read"}')).toBe(1);
    expect(value('hilok_holds{kind="Mutex",prefix="invoice"}')).toBe(1);
    expect(value('hilok_holds{kind="HiLok",prefix="shop",mode="read"}')).toBe(1);
    expect(value('hilok_acquire_failures_total{kind="Mutex",prefix="invoice",reason="timeout"}')).toBe(1);
    expect(body).toMatch(/^# TYPE hilok_lost_leases_total counter$/m);
    // Never the full lock name as a label.
    expect(body).not.toContain('invoice:42');
    expect(body).not.toContain('shop/catalog');

    await second.release();
    await held.release();
    const after = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(after).toMatch(/^hilok_holds\{kind="Mutex",prefix="invoice"\} 0$/m);
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
  } finally {
    stop();
    await Promise.all([mutex.close(), tree.close()]);
    await new Promise((resolve) => metrics.close(resolve));
  }
});
