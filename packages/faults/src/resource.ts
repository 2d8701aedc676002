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
