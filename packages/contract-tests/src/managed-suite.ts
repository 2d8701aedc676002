import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FairLock, HiLok, Mutex, ReadWriteLock, ReentrantMutex, RedisUnavailableError, SpinLock, type RedisAdapter } from '@hilok/core';
import { startRedis, type RedisServer } from '@hilok/testing';
import { delay, handOffMs, type DriverCase } from './driver.js';

/** docs/managed-redis.md: its `acl` blocks are the rules this suite grants, line by line. */
const ACL_DOC = fileURLToPath(new URL('../../../docs/managed-redis.md', import.meta.url));
/** The Lua sources, to check that each kind's rules name every command its scripts call. */
const SCRIPTS = fileURLToPath(new URL('../../core/src/scripts/', import.meta.url));

/** The `ACL SETUSER <user>` rules of docs/managed-redis.md by their comment line (e.g. "FairLock"). */
export function documentedAcl(): Map<string, string[]> {
  const rules = new Map<string, string[]>();
  const text = readFileSync(ACL_DOC, 'utf8');
  for (const block of text.matchAll(/```acl\n([\s\S]*?)```/g)) {
    let title = '';
    for (const line of (block[1] as string).split('\n')) {
      if (line.startsWith('#')) title = line.slice(1).split(':')[0]?.trim() ?? '';
      else if (line.startsWith('ACL SETUSER ')) rules.set(title, line.split(/\s+/).slice(3));
    }
  }
  return rules;
}

/** The commands a kind's scripts call (`redis.call('X'`, includes inlined, and the batched helpers' commands), upper-case. */
export function scriptCommands(kind: string): Set<string> {
  const inline = (text: string): string =>
    text.replace(/^--\s*@include\s+([\w-]+)\s*$/gm, (_, name: string) => inline(readFileSync(`${SCRIPTS}includes/${name}.lua`, 'utf8')));
  const commands = new Set<string>();
  for (const file of readdirSync(`${SCRIPTS}${kind}`)) {
    const lua = inline(readFileSync(`${SCRIPTS}${kind}/${file}`, 'utf8'));
    for (const m of lua.matchAll(/(?:redis\.p?call|batched|chunked)\(['"](\w+)['"]/g)) commands.add((m[1] as string).toUpperCase());
  }
  return commands;
}

/** Each lock kind, the doc line that grants its commands, and the script directory it runs. */
const KINDS = [
  { kind: 'Mutex', rules: 'Mutex, SpinLock, ReentrantMutex', scripts: 'mutex' },
  { kind: 'SpinLock', rules: 'Mutex, SpinLock, ReentrantMutex', scripts: 'mutex' },
  { kind: 'ReentrantMutex', rules: 'Mutex, SpinLock, ReentrantMutex', scripts: 'mutex' },
  { kind: 'FairLock', rules: 'FairLock', scripts: 'fair' },
  { kind: 'HiLok', rules: 'HiLok, ReadWriteLock', scripts: 'hilok' },
  { kind: 'ReadWriteLock', rules: 'HiLok, ReadWriteLock', scripts: 'hilok' },
] as const;

type Kind = (typeof KINDS)[number]['kind'];

/** A held lock of any kind, released by `release()`. */
interface Held {
  extend(): Promise<unknown>;
  release(): Promise<unknown>;
}

/** Take `name` with `kind` on `adapter` (the waiter side: `timeout` set). */
function take(kind: Kind, adapter: RedisAdapter, name: string, options: { ttl?: number; timeout?: number }): Promise<Held> {
  switch (kind) {
    case 'Mutex':
      return new Mutex(adapter).acquire(name, options);
    case 'SpinLock':
      return new SpinLock(adapter).acquire(name, options);
    case 'ReentrantMutex':
      return new ReentrantMutex(adapter).acquire(name, options);
    case 'FairLock':
      return new FairLock(adapter).acquire(name, options);
    case 'HiLok':
      return new HiLok(adapter).write(`${name}/x`, options);
    case 'ReadWriteLock':
      return new ReadWriteLock(adapter).write(name, options);
  }
}

/**
 * Managed Redis: every lock kind over TLS (`rediss://`, a CA made with openssl in the test) as an
 * ACL user with exactly the rules docs/managed-redis.md gives that kind and client, and the
 * message a user gets when a permission is missing (not an outage, and which one).
 */
export function describeManagedRedisSuite<C>(driver: DriverCase<C>): void {
  describe(`managed Redis (TLS, ACL): ${driver.name}`, () => {
    let server: RedisServer;
    const clients: C[] = [];
    const adapters: RedisAdapter[] = [];
    const acl = documentedAcl();
    /** The driver name the adapter reports ('ioredis' | 'node-redis' | 'valkey-glide'): which client line applies. */
    let clientRules: string[] = [];

    /** A user `name` with `rules` (password `pw`), and an adapter over a TLS client of it. */
    const openAs = async (name: string, rules: string[]): Promise<RedisAdapter> => {
      await server.command('ACL', 'SETUSER', name, 'reset', 'on', '>pw', ...rules.filter((r) => !r.startsWith('>') && r !== 'on'));
      const tls = server.tls as NonNullable<RedisServer['tls']>;
      if (!driver.tlsClient) throw new Error(`${driver.name} has no tlsClient`);
      const client = await driver.tlsClient(tls.url.replace('rediss://', `rediss://${name}:pw@`), tls.ca);
      clients.push(client);
      const adapter = driver.adapter(client);
      adapters.push(adapter);
      return adapter;
    };
    const rulesOf = (title: string): string[] => {
      const rules = acl.get(title);
      if (!rules) throw new Error(`docs/managed-redis.md has no acl line "# ${title}"`);
      return rules;
    };

    beforeAll(async () => {
      server = await startRedis({ tls: true });
      // Which client line: ask a throwaway adapter over a client of the plain port.
      const probe = await driver.client(server.url);
      const name = driver.adapter(probe).driver;
      await driver.closeClient(probe);
      clientRules = name === 'node-redis' ? rulesOf('node-redis 4, 5, 6') : name === 'valkey-glide' ? rulesOf('valkey-glide') : rulesOf('ioredis, iovalkey');
    });
    afterAll(async () => {
      await Promise.allSettled(adapters.map((a) => a.close()));
      await Promise.allSettled(clients.map((c) => driver.closeClient(c)));
      await server?.stop();
    });

    it.each(KINDS.map((k) => [k.kind, k] as const))('%s over TLS as a user with only its documented rules: acquires, is woken by pub/sub, extends, releases', async (kind, { rules, scripts }) => {
      // The doc's line for this kind names every command its scripts call.
      const granted = new Set([...rulesOf('every lock kind'), ...rulesOf(rules)].filter((r) => r.startsWith('+')).map((r) => r.slice(1).toUpperCase()));
      expect([...scriptCommands(scripts)].filter((c) => !granted.has(c))).toEqual([]);

      const user = `u-${kind.toLowerCase()}`;
      const all = [...rulesOf('every lock kind'), ...rulesOf(rules), ...clientRules];
      const [a, b] = [await openAs(user, all), await openAs(user, all)];
      const name = `managed-${kind}`;
      const holder = await take(kind, a, name, { ttl: 20_000 });
      await holder.extend();
      // Far below the waiter's own retry (≥ 0.9 s): the wake-up came over pub/sub.
      expect(await handOffMs(holder, take(kind, b, name, { timeout: 15_000 }))).toBeLessThan(kind === 'SpinLock' ? 1_500 : 500);
    });

    it('the Semaphore line names every command the semaphore scripts call', () => {
      if (!existsSync(`${SCRIPTS}semaphore`)) return;
      const granted = new Set([...rulesOf('every lock kind'), ...rulesOf('Semaphore')].filter((r) => r.startsWith('+')).map((r) => r.slice(1).toUpperCase()));
      expect([...scriptCommands('semaphore')].filter((c) => !granted.has(c))).toEqual([]);
    });

    const mutexRules = (): string[] => [...rulesOf('every lock kind'), ...rulesOf('Mutex, SpinLock, ReentrantMutex'), ...clientRules];
    const refusal = async (adapter: RedisAdapter, wait = false): Promise<RedisUnavailableError> => {
      const mutex = new Mutex(adapter);
      let holder: Held | undefined;
      if (wait) holder = await new Mutex(await openAs('u-holder', mutexRules())).acquire('refused', { ttl: 10_000 });
      const err = await mutex.acquire('refused', { timeout: 3_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      await holder?.release();
      expect(err).toBeInstanceOf(RedisUnavailableError);
      return err as RedisUnavailableError;
    };

    it('without EVALSHA and EVAL: a RedisUnavailableError that names the permission and says it is not an outage', async () => {
      const err = await refusal(await openAs('u-noeval', mutexRules().filter((r) => r !== '+evalsha' && r !== '+eval')));
      expect(err.message).toMatch(/^Redis refused the command for lack of an ACL permission \(NOPERM/);
      expect(err.message).toMatch(/not an outage/);
      expect(err.message).toMatch(/may not run EVAL(SHA)?\. Grant \+eval(sha)?/);
      expect(err.message).toMatch(/docs\/managed-redis\.md/);
      expect(String((err.cause as Error).message)).toMatch(/^NOPERM/);
    });

    it('without a command the script calls (TIME): the message says a command of the lock script is denied', async () => {
      const err = await refusal(await openAs('u-notime', mutexRules().filter((r) => r !== '+time')));
      expect(err.message).toMatch(/lack of an ACL permission/);
      expect(err.message).toMatch(/may not run (a command or touch a key the lock script uses|TIME)/);
    });

    it('a key pattern that does not cover the prefix: the message names the key pattern', async () => {
      const err = await refusal(await openAs('u-otherkeys', mutexRules().map((r) => (r === '~hilok:*' ? '~other:*' : r))));
      expect(err.message).toMatch(/may not access the lock keys\. Grant the key pattern of your prefix/);
    });

    it('without the channel pattern: an uncontended acquire works, a waiter gets the channel message', async () => {
      const adapter = await openAs('u-nochannel', mutexRules().filter((r) => r !== '&hilok:*'));
      const lease = await new Mutex(adapter).acquire('uncontended', { block: false });
      expect(await lease.release()).toBe(true);
      const err = await refusal(adapter, true);
      expect(err.message).toMatch(/may not use the wake-up channels\. Grant the channel pattern/);
      await delay(10);
    });
  });
}
