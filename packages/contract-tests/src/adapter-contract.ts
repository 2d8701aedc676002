import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@hilok/testing';
import { Connections, delay, keyCall, type DriverCase } from './driver.js';

/**
 * The contract every {@link RedisAdapter} must meet, run against a real redis-server: script
 * calls with KEYS/ARGV and the reply shapes core relies on, NOSCRIPT surfacing as an error,
 * pub/sub delivery and unsubscription, and `close()` leaving the user's client open.
 */
export function describeAdapterContract<C>(driver: DriverCase<C>): void {
  describe(`adapter contract: ${driver.name}`, () => {
    let server: RedisServer;
    let conns: Connections<C>;

    beforeAll(async () => {
      server = await startRedis();
      conns = new Connections(driver);
    });
    afterAll(async () => {
      await conns?.closeAll();
      await server?.stop();
    });

    it('runs EVAL with KEYS and ARGV and returns integers, strings, arrays and nil', async () => {
      const adapter = await conns.open(server.url);
      const reply = await adapter.eval(
        "redis.call('SET', KEYS[1], ARGV[1]); return {42, redis.call('GET', KEYS[1]), {1, 'x'}, tonumber(ARGV[2])}",
        ['contract:eval'],
        ['hello', 7],
      );
      expect(Array.isArray(reply)).toBe(true);
      const [n, s, nested, seven] = reply as unknown[];
      expect(Number(n)).toBe(42);
      expect(String(s)).toBe('hello');
      expect((nested as unknown[]).map(String)).toEqual(['1', 'x']);
      expect(Number(seven)).toBe(7);
      expect(await adapter.eval('return nil', [], [])).toBeNull();
      await keyCall(adapter, 'DEL', 'contract:eval');
    });

    it('rejects EVALSHA of an unknown script with an error whose message starts with NOSCRIPT', async () => {
      const adapter = await conns.open(server.url);
      await expect(adapter.evalsha('0'.repeat(40), [], [])).rejects.toThrow(/^NOSCRIPT/);
    });

    it('runs EVALSHA once the script is cached by EVAL', async () => {
      const adapter = await conns.open(server.url);
      const script = 'return ARGV[1]';
      await adapter.eval(script, [], ['warm']);
      const sha = (await adapter.eval("return redis.sha1hex(ARGV[1])", [], [script])) as string;
      expect(String(await adapter.evalsha(String(sha), [], ['cached']))).toBe('cached');
    });

    it('rejects a script error with the server message', async () => {
      const adapter = await conns.open(server.url);
      await expect(adapter.eval("return redis.error_reply('BOOM broken')", [], [])).rejects.toThrow(/BOOM/);
    });

    it('delivers messages of subscribed channels until unsubscribed', async () => {
      const adapter = await conns.open(server.url);
      const publisher = await conns.open(server.url);
      const got: string[] = [];
      await adapter.subscribe('contract:ch', (m) => got.push(m));
      await publisher.eval("redis.call('PUBLISH', ARGV[1], ARGV[2])", [], ['contract:ch', 'one']);
      await waitUntil(() => got.length === 1);
      expect(got).toEqual(['one']);
      await adapter.unsubscribe('contract:ch');
      await publisher.eval("redis.call('PUBLISH', ARGV[1], ARGV[2])", [], ['contract:ch', 'two']);
      await delay(100);
      expect(got).toEqual(['one']);
    });

    it('keeps the command connection usable while subscribed', async () => {
      const adapter = await conns.open(server.url);
      await adapter.subscribe('contract:busy', () => undefined);
      expect(Number(await adapter.eval('return 1', [], []))).toBe(1);
      await adapter.unsubscribe('contract:busy');
    });

    it('close() closes its own pub/sub connection but leaves the user client open', async () => {
      const client = await driver.client(server.url);
      const adapter = driver.adapter(client);
      await adapter.subscribe('contract:close', () => undefined);
      await adapter.close();
      const again = driver.adapter(client);
      expect(Number(await again.eval('return 5', [], []))).toBe(5);
      await again.close();
      await driver.closeClient(client);
    });
  });
}

/** Poll `predicate` every 5 ms, failing after `timeout` ms. */
export async function waitUntil(predicate: () => boolean, timeout = 3_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await delay(5);
  }
}
