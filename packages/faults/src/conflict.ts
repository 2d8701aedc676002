/** A lock a hold is on: its kind, name or path, and mode. */
export interface LockTarget {
  kind: 'mutex' | 'hilok';
  resource: string;
  /** Mutex holds are always `'write'`. */
  mode: 'read' | 'write';
}

/**
 * The conflict rule of each lock kind. Mutex: same name. HiLok: same path, or one an ancestor of
 * the other, and at least one of the two a write.
 */
export function conflicts(a: LockTarget, b: LockTarget, separator = '/'): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'mutex') return a.resource === b.resource;
  if (a.mode === 'read' && b.mode === 'read') return false;
  return a.resource === b.resource || isAncestor(a.resource, b.resource, separator) || isAncestor(b.resource, a.resource, separator);
}

/** Whether `a` is a proper ancestor of `b` in a separator-delimited tree. */
export function isAncestor(a: string, b: string, separator = '/'): boolean {
  return b.length > a.length && b.startsWith(a + separator);
}

/** Grouping key: holds in different groups can never conflict (mutex name; HiLok tree root). */
export function conflictGroup(t: LockTarget, separator = '/'): string {
  return t.kind === 'mutex' ? `m:${t.resource}` : `h:${t.resource.split(separator)[0]}`;
}
