import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Who took a hold, decoded from its owner token ({@link parseOwner}): the manager's `app` label,
 * the host and process id, and when that process started. Every token a manager makes itself
 * (no `id` / `owner` given) carries these; a token chosen by the caller carries none.
 */
export interface OwnerInfo {
  /** The manager's `app` option, or `undefined` when it had none. */
  app: string | undefined;
  /** The host name (`os.hostname()`; characters other than `A-Z a-z 0-9 . _ -` became `-`, at most 64). */
  host: string;
  /** The process id. */
  pid: number;
  /** When the process started, in ms since the epoch (to the second, on that host's clock). */
  startedAt: number;
}

/**
 * An owner token made by hilok: `[app@]host:pid:started:nonce.sequence` — `started` is the
 * process start in s since the epoch and `sequence` a per-process counter, both base 36; `nonce`
 * is 8 random base-36 characters per process, so two processes that share host, pid and start
 * second (containers on one host network) still make different tokens.
 */
const OWNER_TOKEN = /^(?:([A-Za-z0-9._-]{1,64})@)?([A-Za-z0-9._-]{1,64}):(\d{1,10}):([0-9a-z]{1,9}):[0-9a-z]{8}\.[0-9a-z]{1,11}$/;

let processPart: string | undefined;
let sequence = 0;

/** `host:pid:started:nonce.` of this process, made once. */
function processTokenPart(): string {
  if (processPart !== undefined) return processPart;
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'localhost';
  const started = Math.floor((Date.now() - process.uptime() * 1000) / 1000).toString(36);
  // 40 random bits: at most 8 base-36 digits.
  const nonce = randomBytes(5).readUIntBE(0, 5).toString(36).padStart(8, '0');
  return (processPart = `${host}:${process.pid}:${started}:${nonce}.`);
}

/**
 * The part every token of a manager with this `app` label starts with; {@link nextOwnerToken}
 * appends the sequence number. Tokens stay about as long as the UUIDs they replace (36
 * characters) for short host names and labels.
 */
export function ownerTokenPrefix(app: string | undefined): string {
  return app === undefined ? processTokenPart() : `${app}@${processTokenPart()}`;
}

/** A fresh owner token: `prefix` (from {@link ownerTokenPrefix}) and the next number of this process. */
export function nextOwnerToken(prefix: string): string {
  return prefix + (++sequence).toString(36);
}

/**
 * Who took a hold, read from its owner token (a lease's `token`, a holder's `id` in `status()`,
 * the owner of `inspect()`), or `null` for a token hilok did not make (an `id` / `owner` the
 * caller chose). A part of a HiLok multi-path hold (`<token>#<path>`) is read by its token.
 * Reads only the string: no Redis call.
 */
export function parseOwner(token: string): OwnerInfo | null {
  if (typeof token !== 'string') return null;
  const part = token.indexOf('#');
  const m = OWNER_TOKEN.exec(part < 0 ? token : token.slice(0, part));
  if (!m) return null;
  return { app: m[1], host: m[2] as string, pid: Number(m[3]), startedAt: parseInt(m[4] as string, 36) * 1000 };
}

/** `app@host:pid` (or `host:pid`) of an owner, as the CLI's OWNER column shows it. */
export function formatOwner(owner: OwnerInfo): string {
  return `${owner.app === undefined ? '' : `${owner.app}@`}${owner.host}:${owner.pid}`;
}

/**
 * When a hold was granted, in ms on the Redis server's clock, read from its fencing token — which
 * every lock kind's scripts take from the server's clock in µs at the grant and keep through
 * extends — or `undefined` when `fence` is not such a time (0 for a free lock, a Redlock fence
 * from another instance's clock is still one).
 */
export function grantedAt(fence: number): number | undefined {
  const ms = Math.floor(fence / 1000);
  return ms > 1e12 ? ms : undefined;
}
