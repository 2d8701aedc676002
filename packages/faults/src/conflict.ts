/** One part of a HiLok multi-path hold: a path, its mode, and (once granted) the part's own fencing token. */
export interface PathPart {
  path: string;
  mode: 'read' | 'write';
  /** The part's fence, as the grant reported it (`MultiHold.parts[i].fence`); absent: the hold's fence. */
  fence?: number;
}

/** A lock a hold is on: its kind, name or path, and mode. */
export interface LockTarget {
  kind: 'mutex' | 'hilok' | 'semaphore';
  /**
   * Name (mutex, semaphore) or path (HiLok). A multi-name mutex hold: its names joined by `+`
   * (for the history and messages; the rule reads {@link LockTarget.names}).
   */
  resource: string;
  /**
   * Mutex holds are always `'write'`. Semaphore: `'write'` when the hold takes every permit
   * (`permits === limit`: it excludes every other hold, so a counter may be guarded by it),
   * `'read'` otherwise.
   */
  mode: 'read' | 'write';
  /** Mutex: several names taken as one hold, all or none (`mutex.acquire([...])`, `redlock.lock([...])`). */
  names?: readonly string[];
  /**
   * HiLok: several paths (reads and writes, one or several trees) taken as one hold, all or none
   * (`hilok.acquire([...])`, `redlock.lockPaths([...])`). The hold is the set of its parts:
   * `resource` is the parts joined by `+` (for messages), `mode` is `'write'` when any part is.
   */
  parts?: readonly PathPart[];
  /** Semaphore: the permits this hold takes (default 1). */
  permits?: number;
  /** Semaphore: the limit the hold was asked with. */
  limit?: number;
}

/** A target's fields as a history event records them (`kind`, `resource`, `mode`, and `names` / `parts` / `permits` / `limit` when set). */
export function targetFields(t: LockTarget): Pick<LockTarget, 'kind' | 'resource' | 'mode' | 'names' | 'parts' | 'permits' | 'limit'> {
  return {
    kind: t.kind,
    resource: t.resource,
    mode: t.mode,
    ...(t.names === undefined ? {} : { names: t.names }),
    ...(t.parts === undefined ? {} : { parts: t.parts }),
    ...(t.permits === undefined ? {} : { permits: t.permits }),
    ...(t.limit === undefined ? {} : { limit: t.limit }),
  };
}

/** The names a target covers: a multi-name mutex's names, otherwise its resource. */
export function namesOf(t: LockTarget): readonly string[] {
  return t.kind === 'mutex' && t.names !== undefined && t.names.length > 0 ? t.names : [t.resource];
}

/** The paths a HiLok target covers: a multi-path hold's parts, otherwise its one path and mode. */
export function partsOf(t: LockTarget): readonly PathPart[] {
  return t.parts !== undefined && t.parts.length > 0 ? t.parts : [{ path: t.resource, mode: t.mode }];
}

/**
 * A HiLok multi-path target (`hilok.acquire(parts)`): `resource` is the parts joined by `+`
 * (`a/x=w+a/y=r`: it starts with the first part's path), `mode` a write when any part is.
 */
export function pathsTarget(parts: readonly PathPart[]): LockTarget {
  const list = parts.map((p) => ({ path: p.path, mode: p.mode }));
  return { kind: 'hilok', resource: list.map((p) => `${p.path}=${p.mode[0]}`).join('+'), mode: list.some((p) => p.mode === 'write') ? 'write' : 'read', parts: list };
}

/** Whether two HiLok paths conflict: the same path, or one an ancestor of the other, and at least one a write. */
export function pathsConflict(a: PathPart, b: PathPart, separator = '/'): boolean {
  if (a.mode === 'read' && b.mode === 'read') return false;
  return a.path === b.path || isAncestor(a.path, b.path, separator) || isAncestor(b.path, a.path, separator);
}

/** A multi-name mutex target (`resource` is the names joined by `+`). */
export function multiTarget(names: readonly string[]): LockTarget {
  return { kind: 'mutex', resource: names.join('+'), mode: 'write', names: [...names] };
}

/** A semaphore target: `permits` of `limit` on `name` (a write when it takes every permit). */
export function semaphoreTarget(name: string, permits: number, limit: number): LockTarget {
  return { kind: 'semaphore', resource: name, mode: permits >= limit ? 'write' : 'read', permits, limit };
}

/**
 * The pairwise conflict rule of each lock kind. Mutex: a name in common (a multi-name hold
 * conflicts with any hold on any of its names). HiLok: same path, or one an ancestor of the
 * other, and at least one of the two a write — a multi-path hold is the set of its parts, and
 * conflicts with another hold when any of its parts conflicts with any of the other's. Semaphore: same name and `permits` together over
 * the limit — but a semaphore's rule is not pairwise (three holds of 1 permit each conflict
 * under limit 2 though no two do): the checker sums the live holds' permits per name (see
 * `checkHistory`); this function answers for the pair alone.
 */
export function conflicts(a: LockTarget, b: LockTarget, separator = '/'): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'mutex') {
    const bn = namesOf(b);
    return namesOf(a).some((n) => bn.includes(n));
  }
  if (a.kind === 'semaphore') return a.resource === b.resource && (a.permits ?? 1) + (b.permits ?? 1) > Math.min(a.limit ?? 1, b.limit ?? 1);
  const bp = partsOf(b);
  return partsOf(a).some((p) => bp.some((q) => pathsConflict(p, q, separator)));
}

/** Whether `a` is a proper ancestor of `b` in a separator-delimited tree. */
export function isAncestor(a: string, b: string, separator = '/'): boolean {
  return b.length > a.length && b.startsWith(a + separator);
}

/**
 * Grouping keys: holds that share no group can never conflict (mutex: one per name — a
 * multi-name hold is in the group of each of its names; semaphore: the name; HiLok: the tree root
 * — a multi-path hold is in the group of each tree its parts are in).
 */
export function conflictGroups(t: LockTarget, separator = '/'): string[] {
  if (t.kind === 'mutex') return namesOf(t).map((n) => `m:${n}`);
  if (t.kind === 'semaphore') return [`s:${t.resource}`];
  return [...new Set(partsOf(t).map((p) => `h:${p.path.split(separator)[0]}`))];
}

/** The first of {@link conflictGroups} (a single-name target's only group). */
export function conflictGroup(t: LockTarget, separator = '/'): string {
  return conflictGroups(t, separator)[0] as string;
}
