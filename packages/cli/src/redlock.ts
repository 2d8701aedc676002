import { semaphoreQuorum } from '@hilok/core/internal';
import { checkUrl, connect, maskUrl, type Connection, type Driver } from './connect.js';
import { CliError, ExitCode } from './errors.js';
import type { KeyKind } from './keys.js';
import { formatTtl, PLAIN, type Palette } from './render.js';
import { readSnapshot } from './snapshot.js';
import { parseOwner, type OwnerInfo } from '@hilok/core';
import { formatOwner } from '@hilok/core/internal';

/** One instance of a Redlock set, as {@link readRedlockView} saw it. */
export interface RedlockInstanceView {
  /** Its URL (password masked). */
  url: string;
  /** Whether it answered; a hold's `on` is `null` there when it did not. */
  reachable: boolean;
  /** Why it could not be read. */
  error?: string;
}

/** One hold (one owner id on one lock) across the instances of a Redlock set. */
export interface RedlockHoldView {
  kind: KeyKind;
  path: string;
  mode: 'read' | 'write';
  /** The owner id (the same on every instance: Redlock writes one id everywhere). */
  id: string;
  /** Permits of a semaphore hold (only on `semaphore` rows). */
  permits?: number;
  /**
   * Instances a hold of this kind needs: the quorum, or for a semaphore of known limit
   * (`--limit`) core's `semaphoreQuorum(N, limit)` — more than a majority once limit ≥ 2.
   */
  needs: number;
  /** Per instance, in the order given: held there, not held there, or `null` (unreachable). */
  on: (boolean | null)[];
  /** On how many instances it is held. */
  held: number;
  /** Whether `held` reaches `needs`, i.e. the Redlock hold is valid (while its ttls last). */
  majority: boolean;
  /** Shortest remaining ttl (ms) among the instances that hold it. */
  ttl: number;
  /** Who took it (app, host, pid, process start), read from the owner id; `null` for an id the caller chose. */
  owner?: OwnerInfo | null;
}

/** Who holds what on each instance of a Redlock set, side by side. */
export interface RedlockView {
  prefix: string;
  path: string | undefined;
  /** Instances needed for a hold to count: ⌊N/2⌋ + 1. */
  quorum: number;
  instances: RedlockInstanceView[];
  /** One row per (kind, path, mode, id), sorted by kind and path. */
  holds: RedlockHoldView[];
  /** The semaphores' limit given (`--limit`), if any. */
  limit?: number;
}

/** Options of {@link readRedlockView}. */
export interface RedlockViewOptions {
  prefix: string;
  path?: string | undefined;
  separator: string;
  kinds?: readonly KeyKind[] | undefined;
  /** Semaphores' limit, for the instances a semaphore hold needs (Redis stores none; without it a majority is shown). */
  limit?: number | undefined;
}

/**
 * Connect to every URL of a Redlock set with `driver` (in parallel), read each one's holds as
 * `hilok inspect` does, and line them up per owner id.
 * @throws {@link CliError} (exit 3) for a bad URL, or when no instance answers
 */
export async function readRedlockView(urls: string[], driver: Driver, options: RedlockViewOptions): Promise<RedlockView> {
  for (const url of urls) checkUrl(url);
  const instances: RedlockInstanceView[] = urls.map((url) => ({ url: maskUrl(url), reachable: false }));
  const conns: (Connection | undefined)[] = await Promise.all(
    urls.map((url, i) =>
      connect(url, driver).catch((err: Error) => {
        (instances[i] as RedlockInstanceView).error = err.message;
        return undefined;
      }),
    ),
  );
  try {
    const snaps = await Promise.all(
      conns.map(async (conn, i) => {
        if (!conn) return undefined;
        try {
          const snap = await readSnapshot(conn, options);
          (instances[i] as RedlockInstanceView).reachable = true;
          return snap;
        } catch (err) {
          (instances[i] as RedlockInstanceView).error = (err as Error).message;
          return undefined;
        }
      }),
    );
    if (snaps.every((s) => s === undefined)) {
      throw new CliError(`no instance of the Redlock set answered: ${instances.map((x) => `${x.url} (${x.error})`).join('; ')}`, ExitCode.Unreachable);
    }
    const quorum = Math.floor(urls.length / 2) + 1;
    const rows = new Map<string, RedlockHoldView>();
    snaps.forEach((snap, i) => {
      for (const h of snap?.holds ?? []) {
        const key = `${h.kind}\0${h.path}\0${h.mode}\0${h.id}`;
        let row = rows.get(key);
        if (!row) {
          const needs = h.kind === 'semaphore' && options.limit !== undefined ? semaphoreQuorum(urls.length, options.limit) : quorum;
          row = { kind: h.kind, path: h.path, mode: h.mode, id: h.id, ...(h.permits === undefined ? {} : { permits: h.permits }), needs, on: snaps.map((s) => (s ? false : null)), held: 0, majority: false, ttl: h.ttl };
          rows.set(key, row);
        }
        row.on[i] = true;
        row.held++;
        row.ttl = Math.min(row.ttl, h.ttl);
      }
    });
    const holds = [...rows.values()];
    for (const r of holds) r.majority = r.held >= r.needs;
    holds.sort((a, b) => a.kind.localeCompare(b.kind) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) || b.held - a.held || (a.id < b.id ? -1 : 1));
    for (const r of holds) r.owner = parseOwner(r.id);
    return { prefix: options.prefix, path: options.path, quorum, instances, holds, ...(options.limit === undefined ? {} : { limit: options.limit }) };
  } finally {
    await Promise.all(conns.map((c) => c?.close()));
  }
}

/** `hilok inspect` of a Redlock set as text: the instances, then one row per hold with a column per instance. */
export function renderRedlock(view: RedlockView, colors: Palette = PLAIN): string {
  const n = view.instances.length;
  const out = [colors.bold(`Redlock set of ${n} instances, a hold needs ${view.quorum} (prefix "${view.prefix}"${view.path === undefined ? '' : `, path "${view.path}"`})`)];
  view.instances.forEach((x, i) => out.push(`  #${i + 1}  ${x.url}${x.reachable ? '' : colors.waiting(`  unreachable: ${x.error ?? 'no answer'}`)}`));
  out.push('');
  if (view.holds.length === 0) out.push('no locks held');
  else {
    const header = ['KIND', 'PATH', 'MODE', ...view.instances.map((_, i) => `#${i + 1}`), 'HELD', 'MAJORITY', 'TTL', 'OWNER', 'ID'];
    const rows = view.holds.map((h) => [
      h.kind,
      h.path,
      (h.mode === 'read' ? colors.read : colors.write)(h.permits === undefined ? h.mode : `${h.permits} permit${h.permits === 1 ? '' : 's'}`),
      ...h.on.map((on) => (on === null ? '?' : on ? 'held' : '-')),
      h.needs === view.quorum ? `${h.held}/${n}` : `${h.held}/${n} (needs ${h.needs})`,
      h.majority ? 'yes' : colors.waiting('no'),
      formatTtl(h.ttl),
      h.owner ? formatOwner(h.owner) : '-',
      h.id,
    ]);
    const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
    const widths = header.map((c, i) => Math.max(c.length, ...rows.map((r) => visible(r[i] ?? ''))));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] as number) - visible(c)))).join('  ').trimEnd();
    out.push(line(header), ...rows.map(line));
    const minority = view.holds.filter((h) => !h.majority).length;
    const fewer = view.holds.some((h) => !h.majority && h.needs !== view.quorum) ? 'fewer instances than needed' : `fewer than ${view.quorum} instances`;
    if (minority) out.push('', colors.waiting(`${minority} hold${minority === 1 ? '' : 's'} on ${fewer}: not a valid Redlock hold (a failed or partly released acquire; it lapses with its ttl)`));
    if (view.holds.some((h) => h.kind === 'semaphore' && h.needs === view.quorum && view.limit === undefined)) {
      out.push('', colors.dim(`semaphore rows are counted against a majority: a semaphore of limit ≥ 2 needs more instances — give --limit <n> to count them right`));
    }
  }
  return out.join('\n') + '\n';
}
