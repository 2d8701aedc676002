import { parseOwner } from '@hilok/core';
import { formatOwner } from '@hilok/core/internal';
import { isGlob } from './match.js';
import type { HoldView, SemaphoreView, Snapshot, WaiterView } from './snapshot.js';

/** ANSI colours, or none (not a terminal, or `NO_COLOR`). */
export interface Palette {
  read(text: string): string;
  write(text: string): string;
  waiting(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const sgr = (code: string) => (text: string) => `\x1b[${code}m${text}\x1b[0m`;

/** The colours of the CLI: read green, write red, waiting yellow. */
export const COLORS: Palette = { read: sgr('32'), write: sgr('31'), waiting: sgr('33'), dim: sgr('2'), bold: sgr('1') };

/** No colours. */
export const PLAIN: Palette = { read: (t) => t, write: (t) => t, waiting: (t) => t, dim: (t) => t, bold: (t) => t };

/** Colours when writing to a terminal and `NO_COLOR` is unset. */
export function paletteFor(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): Palette {
  return stream.isTTY && !env.NO_COLOR ? COLORS : PLAIN;
}

/** A remaining ttl for people: `9.2s`, `42s`, `3m05s`, `no ttl`. */
export function formatTtl(ms: number): string {
  if (ms < 0) return 'no ttl';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** How long ago `at` (server ms) was, at `now`: `0.4s`, `42s`, `3m05s`, `2h07m`; `-` if unknown. */
export function formatAge(at: number | null, now: number): string {
  if (at === null) return '-';
  const ms = Math.max(0, now - at);
  if (ms < 7_200_000) return formatTtl(ms);
  const m = Math.round(ms / 60_000);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - visible(s)));

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i] as number))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Label of a hold's mode, with its reentrant count (a semaphore hold: its permits). */
function modeLabel(h: HoldView): string {
  if (h.permits !== undefined) return permitsLabel(h.permits);
  return h.count > 1 ? `${h.mode}×${h.count}` : h.mode;
}

/** `1 permit`, `3 permits`. */
function permitsLabel(permits: number): string {
  return `${permits} permit${permits === 1 ? '' : 's'}`;
}

/** What a waiter waits for: `waiting write`, or for a semaphore `waiting 2 permits`. */
function waitLabel(w: WaiterView): string {
  return `waiting ${w.permits === undefined ? w.mode : permitsLabel(w.permits)}`;
}

/** A semaphore's counts: `3 of 4 permits used, 1 available`, or `3 permits used (limit unknown)`. */
function semaphoreLabel(s: SemaphoreView): string {
  return s.limit === null ? `${permitsLabel(s.used)} used (limit unknown: --limit)` : `${s.used} of ${s.limit} permits used, ${s.available} available`;
}

/**
 * `hilok inspect` as text: a table of holds (kind, path, mode, ttl, time held, fence, owner, id) and one of the
 * waiters. Ids are printed whole so they can be passed to `hilok release --id`.
 */
export function renderInspect(snap: Snapshot, colors: Palette = PLAIN): string {
  const where =
    snap.path === undefined
      ? `under prefix "${snap.prefix}"`
      : isGlob(snap.path)
        ? `matching "${snap.path}" (prefix "${snap.prefix}")`
        : `at "${snap.path}" and below (prefix "${snap.prefix}")`;
  const out: string[] = [];
  if (snap.holds.length === 0) out.push(`no locks held ${where}`);
  else {
    out.push(colors.bold(`${snap.holds.length} hold${snap.holds.length === 1 ? '' : 's'} ${where}`));
    const rows = snap.holds.map((h) => [
      h.kind,
      h.path,
      (h.mode === 'read' ? colors.read : colors.write)(modeLabel(h)),
      formatTtl(h.ttl),
      formatAge(h.acquiredAt, snap.now),
      String(h.fence),
      h.owner ? formatOwner(h.owner) : '-',
      h.id,
    ]);
    out.push(...table(['KIND', 'PATH', 'MODE', 'TTL', 'HELD', 'FENCE', 'OWNER', 'ID'], rows));
  }
  if (snap.waiting.length > 0) {
    out.push('', colors.bold(`${snap.waiting.length} waiting`));
    const rows = snap.waiting.map((w) => [w.kind, w.path, colors.waiting(waitLabel(w)), w.position === undefined ? '-' : `#${w.position}`, formatTtl(w.ttl), w.id]);
    out.push(...table(['KIND', 'PATH', 'STATE', 'QUEUE', 'TTL', 'ID'], rows));
  }
  // Semaphores: their counts (the limit is not stored in Redis: --limit, or the first waiter's).
  const semaphores = snap.semaphores ?? [];
  if (semaphores.length > 0) {
    out.push('', colors.bold(`${semaphores.length} semaphore${semaphores.length === 1 ? '' : 's'}`));
    out.push(...table(['PATH', 'USED', 'LIMIT', 'AVAILABLE'], semaphores.map((s) => [s.path, String(s.used), s.limit === null ? '?' : String(s.limit), s.available === null ? '?' : String(s.available)])));
  }
  return out.join('\n') + '\n';
}

interface TreeNode {
  children: Map<string, TreeNode>;
  holds: HoldView[];
  waiting: WaiterView[];
}

const newNode = (): TreeNode => ({ children: new Map(), holds: [], waiting: [] });

const SECTIONS: { kind: HoldView['kind']; title: string }[] = [
  { kind: 'tree', title: 'tree (HiLok)' },
  { kind: 'rw', title: 'read-write (ReadWriteLock)' },
  { kind: 'mutex', title: 'mutex (Mutex, SpinLock, ReentrantMutex)' },
  { kind: 'fair', title: 'fair (FairLock)' },
  { kind: 'semaphore', title: 'semaphore (Semaphore)' },
];

/** Options of {@link renderTree}. */
export interface TreeOptions {
  /** Colours (default none). */
  colors?: Palette;
  /** Tree path separator (default `/`). */
  separator?: string;
  /** Terminal width: longer lines are cut (default: no limit). */
  width?: number;
}

/**
 * The live tree of `hilok watch` and `hilok demo`: one section per lock kind, tree paths nested
 * by segment, each hold as `read` / `write` with its owner, ttl and fence, waiters as `waiting`.
 */
export function renderTree(snap: Snapshot, options: TreeOptions = {}): string[] {
  const colors = options.colors ?? PLAIN;
  const separator = options.separator ?? '/';
  const out: string[] = [];
  const item = (h: HoldView) =>
    `${(h.mode === 'read' ? colors.read : colors.write)(pad(modeLabel(h), 7))} ${ownerLabel(h.id)}  ttl ${pad(formatTtl(h.ttl), 6)} held ${pad(formatAge(h.acquiredAt, snap.now), 6)} ${colors.dim(`fence ${h.fence}`)}`;
  const waiter = (w: WaiterView) =>
    colors.waiting(`${waitLabel(w)}${w.position === undefined ? '' : ` #${w.position}`}`) + ` ${w.id.slice(0, 8)}  ${colors.dim(`lapses in ${formatTtl(w.ttl)}`)}`;
  const LABEL = 34;

  for (const { kind, title } of SECTIONS) {
    const holds = snap.holds.filter((h) => h.kind === kind);
    const waiting = snap.waiting.filter((w) => w.kind === kind);
    if (holds.length === 0 && waiting.length === 0) continue;
    out.push(colors.bold(title));
    const root = newNode();
    const place = (path: string) => {
      const segments = kind === 'tree' ? path.split(separator) : [path];
      let node = root;
      for (const s of segments) {
        let next = node.children.get(s);
        if (!next) node.children.set(s, (next = newNode()));
        node = next;
      }
      return node;
    };
    for (const h of holds) place(h.path).holds.push(h);
    for (const w of waiting) place(w.path).waiting.push(w);
    const walk = (node: TreeNode, indent: string) => {
      const names = [...node.children.keys()].sort();
      names.forEach((name, i) => {
        const child = node.children.get(name) as TreeNode;
        const last = i === names.length - 1;
        const branch = indent + (last ? '└─ ' : '├─ ');
        const cont = indent + (last ? '   ' : '│  ');
        const counts = kind === 'semaphore' ? (snap.semaphores ?? []).find((s) => s.path === name && child.children.size === 0) : undefined;
        const entries = [...(counts ? [colors.dim(semaphoreLabel(counts))] : []), ...child.holds.map(item), ...child.waiting.map(waiter)];
        const below = child.children.size > 0 ? '│ ' : '  ';
        if (entries.length === 0) out.push(branch + name);
        entries.forEach((e, j) => out.push(pad(j === 0 ? branch + name : cont + below, LABEL) + ' ' + e));
        walk(child, cont);
      });
    };
    walk(root, '  ');
  }
  if (out.length === 0) out.push(colors.dim('  (no locks held)'));
  if (options.width) return out.map((l) => cut(l, options.width as number));
  return out;
}

/** Who holds, in the watch tree: `app@host:pid` read from an owner token, else the id's first 8 characters. */
export function ownerLabel(id: string): string {
  const owner = parseOwner(id);
  return owner ? formatOwner(owner) : id.slice(0, 8);
}

/** Cut `line` to `width` visible columns, keeping ANSI sequences intact. */
function cut(line: string, width: number): string {
  if (visible(line) <= width) return line;
  let shown = 0;
  let result = '';
  for (const part of line.split(/(\x1b\[[0-9;]*m)/)) {
    if (part.startsWith('\x1b[')) result += part;
    else {
      const take = part.slice(0, Math.max(0, width - shown));
      result += take;
      shown += take.length;
    }
  }
  return line.includes('\x1b[') ? result + '\x1b[0m' : result;
}
