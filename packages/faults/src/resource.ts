import { Redis } from 'ioredis';

/**
 * A simulated resource protected by fencing tokens (Kleppmann): it remembers the largest token
 * it has seen and rejects a write carrying a smaller one. Writes carrying an equal token (the
 * same hold writing twice) are accepted.
 */
export class FencedResource {
  private highest = -Infinity;
  /** Accepted writes, in order. */
  readonly accepted: { fence: number; value: unknown }[] = [];
  /** Rejected (stale) writes. */
  readonly rejected: { fence: number; value: unknown }[] = [];

  /** Apply a write; `true` if accepted, `false` if rejected as stale. */
  write(fence: number, value: unknown): boolean {
    if (fence < this.highest) {
      this.rejected.push({ fence, value });
      return false;
    }
    this.highest = fence;
    this.accepted.push({ fence, value });
    return true;
  }
}

/** Lua of the Redis-side fenced resource (for writers in other processes). Returns 1 accepted, 0 stale. */
export const FENCED_WRITE_LUA = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'fence') or '-1')
if tonumber(ARGV[1]) < cur then redis.call('HINCRBY', KEYS[1], 'rejected', 1) return 0 end
redis.call('HSET', KEYS[1], 'fence', ARGV[1], 'value', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'accepted', 1)
return 1`;

/**
 * A counter updated by a read-modify-write with an await in between: without mutual exclusion,
 * concurrent increments overwrite each other (lost updates).
 */
export class RmwCounter {
  /** Current value. */
  value = 0;

  /** Read, wait `gapMs`, write read + 1. Returns the value written. */
  async increment(gapMs: number): Promise<number> {
    const read = this.value;
    await new Promise((r) => setTimeout(r, gapMs));
    this.value = read + 1;
    return this.value;
  }
}

/** A lock-guarded counter: read, then (after an await) write. */
export interface SharedCounter {
  /** Counter key (tags the `write:*` events of its increments). */
  readonly key: string;
  read(): Promise<number>;
  write(v: number): Promise<void>;
}

/**
 * Counters shared by every process: keys on a redis-server that no fault touches (not one of
 * the lock servers), over one connection per process. A plain GET and a later SET, so
 * without mutual exclusion concurrent increments overwrite each other.
 */
export class CounterStore {
  readonly redis: Redis;

  constructor(url: string) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 1 });
    this.redis.on('error', () => undefined);
  }

  /** The counter stored at `key`. */
  counter(key: string): SharedCounter {
    return {
      key,
      read: async () => Number((await this.redis.get(key)) ?? 0),
      write: async (v) => {
        await this.redis.set(key, String(v));
      },
    };
  }

  /** Current values of `keys` (0 when absent). */
  async values(keys: readonly string[]): Promise<Record<string, number>> {
    if (keys.length === 0) return {};
    const vs = await this.redis.mget(...keys);
    return Object.fromEntries(keys.map((k, i) => [k, Number(vs[i] ?? 0)]));
  }

  /** Delete `keys` (a fresh start for a run). */
  async reset(keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.redis.del(...keys);
  }

  close(): void {
    this.redis.disconnect();
  }
}
