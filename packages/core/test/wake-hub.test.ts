import { describe, expect, it } from 'vitest';
import type { RedisAdapter } from '../src/adapter.js';
import { WakeHub } from '../src/engine/wake-hub.js';
import { DEFAULT_SPIN, acquireOrWait, type Attempt, type WaitPlan } from '../src/engine/wait.js';

/** A pub/sub link we drive by hand: what arrives on a channel, and when. */
function handDriven(): RedisAdapter & { send(channel: string, message: string): void } {
  const listeners = new Map<string, (message: string) => void>();
  const fail = (): Promise<never> => Promise.reject(new Error('no scripts here'));
  return {
    driver: 'by-hand',
    evalsha: fail,
    eval: fail,
    subscribe: async (channel, onMessage) => void listeners.set(channel, onMessage),
    unsubscribe: async (channel) => void listeners.delete(channel),
    close: async () => undefined,
    send: (channel, message) => listeners.get(channel)?.(message),
  };
}

describe('WakeHub addressed wake-ups (to:<token>)', () => {
  it('wakes only the waiter joined with that token', async () => {
    const link = handDriven();
    const hub = new WakeHub(link);
    const a = await hub.join('c', 'A');
    const b = await hub.join('c', 'B');
    link.send('c', 'to:B');
    expect(await b.sleep(5_000)).toBe(true);
    expect(await a.sleep(20)).toBe(false);
    a.leave();
    b.leave();
    await hub.close();
  });

  it('a message addressed to a waiter before it joined wakes it at its first sleep', async () => {
    // The attempt's reply (command connection) and the release's message (pub/sub connection)
    // race: the message may be handled before the waiter joined the hub.
    const link = handDriven();
    const hub = new WakeHub(link);
    const other = await hub.join('c', 'X'); // keeps the channel subscribed
    link.send('c', 'to:late');
    const late = await hub.join('c', 'late');
    expect(await late.sleep(5_000)).toBe(true);
    late.leave();
    other.leave();
    await hub.close();
  });

  it('remembers only the latest few unclaimed tokens', async () => {
    const link = handDriven();
    const hub = new WakeHub(link);
    const other = await hub.join('c', 'X');
    link.send('c', 'to:old');
    for (let i = 0; i < 100; i++) link.send('c', `to:someone-else-${i}`);
    const old = await hub.join('c', 'old');
    expect(await old.sleep(20)).toBe(false);
    old.leave();
    other.leave();
    await hub.close();
  });

  it('handOff wakes a local waiter without the message', async () => {
    const link = handDriven();
    const hub = new WakeHub(link);
    const w = await hub.join('c', 'T');
    hub.handOff('c', 'T');
    expect(await w.sleep(5_000)).toBe(true);
    w.leave();
    await hub.close();
  });
});

describe('WakeHub unaddressed wake-ups and late joiners', () => {
  it('a local (polling) waiter subscribes nothing and is woken by a hand-off of this process', async () => {
    const link = handDriven();
    let subscribes = 0;
    const counted: RedisAdapter = { ...link, subscribe: async (c, m) => (subscribes++, link.subscribe(c, m)) };
    const hub = new WakeHub(counted, 10);
    const w = hub.local('c', 'T');
    hub.handOff('c', 'X'); // someone else's hand-off
    expect(await w.sleep(20)).toBe(false);
    hub.handOff('c', 'T');
    expect(await w.sleep(5_000)).toBe(true);
    w.leave();
    expect(subscribes).toBe(0);
    expect(hub.subscriptionCount).toBe(0);
    await hub.close();
  });

  it('heardAt is when the latest "all" (or wake-one) arrived; addressed messages leave it', async () => {
    const link = handDriven();
    const hub = new WakeHub(link);
    const w = await hub.join('c');
    expect(w.heardAt).toBe(-Infinity);
    link.send('c', 'to:someone');
    expect(w.heardAt).toBe(-Infinity);
    const before = performance.now();
    link.send('c', 'all');
    expect(w.heardAt).toBeGreaterThanOrEqual(before);
    w.leave();
    await hub.close();
  });

  it('a waiter whose attempt was sent before an "all" that came before it joined retries at once', async () => {
    // The subscription is live (another waiter keeps it) before the attempt is sent, so the
    // post-join retry used to be skipped; but the "all" published after the attempt's mark woke
    // only the waiters joined then: this one slept into its fallback timer (HiLok: 1 s).
    const link = handDriven();
    const hub = new WakeHub(link);
    const other = await hub.join('c');
    let calls = 0;
    const attempt = async (): Promise<Attempt<number>> => {
      calls++;
      if (calls > 1) return { ok: true, acquired: 7 };
      link.send('c', 'all'); // the release lands between this attempt and the join
      return { ok: false, retryAfter: 5_000, channel: 'c' };
    };
    const started = performance.now();
    const plan = (): WaitPlan => ({ resource: 'r', block: true, timeout: 10_000, strategy: 'pubsub', spin: DEFAULT_SPIN, commandTimeout: 1_000, hub, channel: 'c', maxSleep: 2_000 });
    expect(await acquireOrWait({ resource: 'r', commandTimeout: 1_000, signal: undefined }, { block: true, timeout: 10_000 }, attempt, plan)).toBe(7);
    expect(performance.now() - started).toBeLessThan(500);
    other.leave();
    await hub.close();
  });
});
