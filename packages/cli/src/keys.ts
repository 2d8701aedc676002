/**
 * Reading hilok's key layout back. Core owns the layout — `mutexKeys`, `fairKeys`, `treeKeys`,
 * `treeChannel` and `decodeTreeItem` in each kind's protocol module, `readLockKey` next to the
 * `lockKey` it inverts — and the CLI only names what a key is: a key is recognised when core's own
 * builder makes exactly that key for the name it carries. Kinds: `mutex` (Mutex, SpinLock,
 * ReentrantMutex), `fair` (FairLock), `tree` (HiLok), `rw` (ReadWriteLock, a tree of
 * one-segment names) and `semaphore` (Semaphore, `semaphoreKeys`).
 */
import { fairKeys, mutexKeys, readLockKey, semaphoreKeys, treeKeys } from '@hilok/core/internal';

/** The lock kinds as they appear in keys. */
export type KeyKind = 'mutex' | 'fair' | 'tree' | 'rw' | 'semaphore';

/** Every {@link KeyKind}. */
export const KEY_KINDS: readonly KeyKind[] = ['mutex', 'fair', 'tree', 'rw', 'semaphore'];

/** What one hilok key is. `name` is the lock name, or for trees the root segment. */
export type ParsedKey =
  | { kind: 'mutex'; name: string; part: 'hash' }
  | { kind: 'fair'; name: string; part: 'hash' | 'queue' | 'heartbeat' }
  | { kind: 'tree' | 'rw'; name: string; part: 'state' | 'expiry' | 'index' }
  | { kind: 'semaphore'; name: string; part: 'holders' | 'permits' | 'queue' | 'alive' };

const FAIR_PARTS = ['hash', 'queue', 'heartbeat'] as const;
const TREE_PARTS = ['state', 'expiry', 'index'] as const;
const SEMAPHORE_PARTS = ['holders', 'permits', 'queue', 'alive'] as const;

/** Parse `key` as a hilok key under `prefix`, or `null` if it is not one (another kind, a foreign key). */
export function parseKey(key: string, prefix: string): ParsedKey | null {
  const k = readLockKey(key, prefix);
  if (!k) return null;
  const { kind, name } = k;
  if (kind === 'mutex') return mutexKeys(prefix, name)[0] === key ? { kind, name, part: 'hash' } : null;
  if (kind === 'fair') {
    const part = FAIR_PARTS[fairKeys(prefix, name).indexOf(key)];
    return part === undefined ? null : { kind, name, part };
  }
  if (kind === 'tree' || kind === 'rw') {
    const part = TREE_PARTS[treeKeys(prefix, kind, name).indexOf(key)];
    return part === undefined ? null : { kind, name, part };
  }
  if (kind === 'semaphore') {
    const part = SEMAPHORE_PARTS[semaphoreKeys(prefix, name).indexOf(key)];
    return part === undefined ? null : { kind, name, part };
  }
  return null;
}

/** `pattern` with Redis glob metacharacters escaped, for `SCAN MATCH`. */
export function globEscape(pattern: string): string {
  return pattern.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
