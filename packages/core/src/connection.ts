import { RedisUnavailableError } from './errors.js';

/** A driver's error as the fields hilok reads from it (Node system errors, Redis replies, wrappers). */
interface DriverError {
  code?: unknown;
  message?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  errors?: unknown;
  lastNodeError?: unknown;
  cause?: unknown;
}

/**
 * The root of a driver's connection error: an ioredis `ClusterAllFailedError` stands for its
 * `lastNodeError`, an `AggregateError` (Node's happy-eyeballs connect) for its first error.
 */
function rootError(err: unknown): DriverError | undefined {
  let e = err as DriverError | undefined;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    if (e.lastNodeError) e = e.lastNodeError as DriverError;
    else if (typeof e.code !== 'string' && Array.isArray(e.errors) && e.errors.length > 0) e = e.errors[0] as DriverError;
    else break;
  }
  return e && typeof e === 'object' ? e : undefined;
}

/**
 * The short reason of a connection failure for messages: the system error code (`ECONNREFUSED`,
 * `ENOTFOUND`, …) when there is one, else the driver's message.
 *
 * @param err - the driver's error
 */
export function connectionFailureReason(err: unknown): string {
  const e = rootError(err);
  if (typeof e?.code === 'string' && e.code !== '') return e.code;
  if (typeof e?.message === 'string' && e.message !== '') return e.message;
  return String(err);
}

/** Where the failed connection went, when the error says (`host:port`). */
function target(e: DriverError): string | undefined {
  const host = typeof e.address === 'string' ? e.address : typeof e.hostname === 'string' ? e.hostname : undefined;
  if (!host) return undefined;
  return typeof e.port === 'number' || typeof e.port === 'string' ? `${host}:${e.port}` : host;
}

const AUTH_REJECTED = /^(WRONGPASS|ERR invalid (username-)?password)/;
const AUTH_MISSING = /^NOAUTH/;
const AUTH_UNEXPECTED = /^ERR (AUTH .* called without any password|Client sent AUTH, but no password is set)/;
/** `NOPERM … 'evalsha' command` (Redis 6, 7.0: "this user has no permissions to run the 'x' command"; 7.2+, Valkey: "User u has no permissions to run the 'x' command"). */
const NOPERM_COMMAND = /NOPERM .*'([^']+)' command/;
const NOPERM_KEY = /NOPERM .*(keys? |a key)/;
const NOPERM_CHANNEL = /NOPERM .*channel/;
/** A command inside a script the ACL user may not run (Redis 7.0 names none: "The user executing the script can't run this command or subcommand"). */
const NOPERM_IN_SCRIPT = /user executing the script can't run this command|executing the script can't access/;
const ACL_DOC = 'the minimal ACL per lock kind and for the CLI is in docs/managed-redis.md';

/**
 * A command Redis refused for lack of an ACL permission: which one, and that it is no outage.
 * The lock keys are `<prefix>…` and the wake-up channels are named after them (`hilok:` by default).
 */
function permissionDenied(message: string): string | undefined {
  const denied = (what: string, grant: string) =>
    `Redis refused the command for lack of an ACL permission (${message}): this is not an outage — Redis is up, but the user your client authenticates as may not ${what}. Grant ${grant} (ACL SETUSER <user> …); ${ACL_DOC}`;
  const command = NOPERM_COMMAND.exec(message)?.[1];
  if (command) return denied(`run ${command.toUpperCase()}`, `+${command.toLowerCase()}`);
  if (NOPERM_KEY.test(message)) return denied('access the lock keys', "the key pattern of your prefix (~hilok:* by default)");
  if (NOPERM_CHANNEL.test(message)) return denied('use the wake-up channels', "the channel pattern of your prefix (&hilok:* by default)");
  if (NOPERM_IN_SCRIPT.test(message)) return denied('run a command or touch a key the lock script uses', 'the commands and key pattern listed there');
  return undefined;
}

/**
 * Turn a driver's error into an actionable {@link RedisUnavailableError} when it is a connection
 * or authentication failure — refused, unknown host, unreachable network, connect timeout, TLS,
 * wrong or missing password — or a missing ACL permission (NOPERM: which one, and that it is no
 * outage), with a message saying what to check and the driver's error as `cause`. Returns
 * `undefined` for any other error (a script error, a reply timeout, …).
 *
 * @param err - the driver's error (as emitted or as a command rejected with it)
 */
export function connectionFailure(err: unknown): RedisUnavailableError | undefined {
  if (err instanceof RedisUnavailableError) return undefined;
  const e = rootError(err);
  if (!e) return undefined;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  const at = target(e);
  const where = at ? ` at ${at}` : '';
  let text: string | undefined = permissionDenied(message);
  if (text !== undefined) {
    // an ACL permission: said above
  } else if (AUTH_REJECTED.test(message)) {
    text = `Redis rejected the authentication (${message}): check the username and password of your client or URL`;
  } else if (AUTH_MISSING.test(message)) {
    text = `Redis requires authentication (${message}): set the password (and username) in your client options or URL`;
  } else if (AUTH_UNEXPECTED.test(message)) {
    text = `authentication failed: this Redis has no password set but the client sent one (${message}): remove the password from your client options or URL, or configure it on the server`;
  } else if (code === 'ECONNREFUSED') {
    text = `cannot reach Redis${where} (ECONNREFUSED): nothing accepts connections there — is redis-server running, and are the host and port of your client or URL right?`;
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') {
    text = `cannot resolve the Redis host${at ? ` "${at}"` : ''} (${code}): check the host name of your client or URL (and DNS)`;
  } else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EHOSTDOWN' || code === 'ENETDOWN') {
    text = `cannot reach Redis${where} (${code}): check the host of your client or URL and the network between`;
  } else if (code === 'ETIMEDOUT') {
    text = `Redis${where} did not answer in time (ETIMEDOUT): check the host and port of your client or URL, and any firewall in between`;
  } else if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code.includes('CERT')) {
    text = `the TLS handshake with Redis${where} failed (${code}): check rediss:// versus redis:// and the TLS options and certificates of your client`;
  }
  return text === undefined ? undefined : new RedisUnavailableError(text, err);
}

/**
 * The error calls fail with while the driver reports that it cannot connect (see
 * `RedisAdapter.watchConnection`): {@link connectionFailure} of the driver's error, or a general
 * "cannot connect" naming the driver's reason.
 *
 * @param err - the driver's latest connection error
 */
export function connectionDown(err: unknown): RedisUnavailableError {
  return (
    connectionFailure(err) ??
    new RedisUnavailableError(
      `cannot connect to Redis (${connectionFailureReason(err)}): check the host, port and credentials of your client or URL`,
      err,
    )
  );
}

/**
 * What a driver adapter knows about its user's client connection, shared by every adapter (and so
 * every lock manager) on that client: one set of driver listeners, not one per manager. The
 * adapter feeds it the driver's events; core reads it through `RedisAdapter.watchConnection`.
 *
 * Down means: the driver reported an error while the client was not ready, i.e. an attempt to
 * connect failed (refused, unknown host, auth rejected…). An error on a ready connection only
 * marks it dropped — the driver reconnects and replays queued commands, so a reconnect that
 * succeeds fails nothing. Only a failed attempt to connect fails the calls waiting at that moment.
 */
export class ConnectionTracker {
  /** True while the client's connection is ready (the adapter keeps it current). */
  ready: boolean;
  private down: unknown;
  private readonly changes = new Set<(error: unknown) => void>();
  private readonly ends = new Set<() => void>();

  /** @param ready - whether the client is ready now */
  constructor(ready: boolean) {
    this.ready = ready;
  }

  /** The driver says the client is ready: a down state ends (listeners get `undefined`). */
  becameReady(): void {
    this.ready = true;
    if (this.down === undefined) return;
    this.down = undefined;
    for (const listener of [...this.changes]) listener(undefined);
  }

  /** An attempt to connect failed with the driver's `error`: listeners get it. */
  failed(error: unknown): void {
    this.down = error;
    for (const listener of [...this.changes]) listener(error);
  }

  /** The client ended (quit, close, no more retries). */
  ended(): void {
    this.ready = false;
    for (const listener of [...this.ends]) listener();
  }

  /** Call `listener` with the driver's error while a connect attempt failed since the last ready, `undefined` once ready; returns its removal. */
  onChange(listener: (error: unknown) => void): () => void {
    this.changes.add(listener);
    if (this.down !== undefined) listener(this.down);
    return () => this.changes.delete(listener);
  }

  /** Call `listener` when the client ends; returns its removal. */
  onEnd(listener: () => void): () => void {
    this.ends.add(listener);
    return () => this.ends.delete(listener);
  }
}
