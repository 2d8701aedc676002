import type { RedisAdapter, ScriptArg } from '../adapter.js';
import { InvalidArgumentError, RedisUnavailableError } from '../errors.js';
import { connectionDown, connectionFailure } from '../connection.js';
import { DeadlineTimer, type Deadline, type DeadlineSlot } from './deadline.js';
import { keySlot } from './keys.js';

/** A Lua script compiled into the package at build time. */
export interface Script {
  /** Script name (from its file name), used in error messages. */
  readonly name: string;
  /** SHA1 of `source`, for EVALSHA. */
  readonly sha: string;
  /** The Lua source. */
  readonly source: string;
  /**
   * Set for scripts written to take many independent locks at once (`-- @batch N` in the
   * `.lua` header): every key comes with `N` ARGV entries and the reply has one entry per key.
   * Such calls issued in the same tick share one EVALSHA (see {@link ScriptRunner.runBatched}).
   */
  readonly batch?: number;
  /**
   * Keys per lock of a batch script (`-- @batch N keys K`; default 1): a lock whose state spans
   * several keys (all with one hash tag) passes them together, and KEYS holds each lock's keys in turn.
   */
  readonly batchKeys?: number;
  /**
   * The same script publishing its wake-ups with `SPUBLISH` (sharded pub/sub) instead of
   * `PUBLISH`; set for every script that publishes. Run instead of this one when the adapter says
   * so ({@link RedisAdapter.shardedPubSub}).
   */
  readonly sharded?: Script;
}

/** Redis did not answer within the time the caller allowed. */
export class ReplyTimeoutError extends RedisUnavailableError {
  /** @param scriptName - the script that got no reply; @param ms - how long we waited */
  constructor(scriptName: string, ms: number) {
    super(`no reply from Redis to ${scriptName} within ${Math.round(ms)} ms`);
  }
}

/** Per-call options of {@link ScriptRunner.run}. */
export interface RunOptions {
  /** Give up waiting for the reply after this many ms (the command may still execute later). */
  timeoutMs: number;
  /** Stop waiting when this aborts (rejects with its reason; the command may still execute later). */
  signal?: AbortSignal | undefined;
  /** Called with the reply if it arrives after we gave up, so a late "acquired" can be undone. */
  onLateReply?: (reply: unknown) => void;
}

const RESOLVED = Promise.resolve();

/** Slot of every batch on an adapter that is no cluster. */
const ANY_SLOT = -1;

/**
 * Most keys one batched script call carries unless the adapter says otherwise
 * ({@link RedisAdapter.maxBatch}): bounds how long one call keeps Redis busy.
 */
export const MAX_BATCH = 64;

/** One caller's share of a (possibly batched) script call. */
class PendingCall implements Deadline {
  readonly deadline: number;
  private settled = false;
  private onAbort: (() => void) | undefined;
  private slot: DeadlineSlot | undefined;
  // Let go once settled (see cleanup): a settled call may stay referenced for a while.
  private options: RunOptions;
  private resolveCall: (reply: unknown) => void;
  private rejectCall: (reason: unknown) => void;
  /** Turns the reply into the caller's value (its exception rejects the call). */
  private parse: ((reply: unknown) => unknown) | undefined;

  constructor(
    private readonly script: Script,
    options: RunOptions,
    private readonly timers: DeadlineTimer,
    resolveCall: (reply: unknown) => void,
    rejectCall: (reason: unknown) => void,
    parse?: (reply: unknown) => unknown,
  ) {
    this.options = options;
    this.resolveCall = resolveCall;
    this.rejectCall = rejectCall;
    this.parse = parse;
    const { timeoutMs, signal } = options;
    this.deadline = Number.isFinite(timeoutMs) ? performance.now() + Math.max(0, timeoutMs) : Infinity;
    if (signal?.aborted) {
      this.giveUp(signal.reason);
      return;
    }
    if (signal) {
      this.onAbort = () => this.giveUp(signal.reason);
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
    if (this.deadline !== Infinity) this.slot = timers.add(this);
  }

  /** The reply arrived: hand it to the caller, or to `onLateReply` if the caller gave up. */
  reply(value: unknown): void {
    if (this.settled) {
      this.options.onLateReply?.(value);
      return;
    }
    this.settled = true;
    const { parse, resolveCall, rejectCall } = this;
    this.cleanup();
    // No second reply can come after this one: the options (and their late-reply handler) go too.
    this.options = SETTLED;
    if (!parse) return resolveCall(value);
    // Parsed here rather than in a `.then` of the caller: one promise and one hop less per call.
    let parsed: unknown;
    try {
      parsed = parse(value);
    } catch (err) {
      rejectCall(err);
      return;
    }
    resolveCall(parsed);
  }

  /** The call failed (or the caller gave up for `reason`). */
  giveUp(reason: unknown): void {
    if (this.settled) return;
    this.settled = true;
    const reject = this.rejectCall;
    this.cleanup();
    reject(reason);
  }

  expire(): void {
    this.giveUp(new ReplyTimeoutError(this.script.name, this.options.timeoutMs));
  }

  /**
   * Stop watching the deadline and the signal, and drop the caller's callbacks. A settled call
   * can outlive its caller's interest (in a batch's reply handler, in a driver's queue); holding
   * the callbacks would keep the caller's whole promise chain alive with it, and V8 then
   * promotes such chains to the old generation by the thousand under load.
   */
  private cleanup(): void {
    if (this.slot) this.timers.delete(this.slot);
    this.slot = undefined;
    if (this.onAbort) this.options.signal?.removeEventListener('abort', this.onAbort);
    this.onAbort = undefined;
    this.resolveCall = this.rejectCall = IGNORE;
    this.parse = undefined;
  }
}

/** The callbacks of a settled call (it never calls them again). */
const IGNORE = (): void => undefined;

/** The options of a call that got its reply (nothing more can arrive for it). */
const SETTLED: RunOptions = { timeoutMs: 0 };

/** Calls of one batchable script for one slot, waiting for the end of the tick. */
interface Batch {
  slot: number;
  keys: string[];
  args: ScriptArg[];
  calls: PendingCall[];
}

/** The batches of one batchable script that wait for the end of the tick. */
interface ScriptQueue {
  readonly script: Script;
  readonly open: Batch[];
  /** A flush is queued for the end of this tick. */
  flushQueued: boolean;
}

/**
 * Runs compiled scripts through an adapter: EVAL the first time a script goes to a server
 * (which loads it into that server's cache), EVALSHA after that, EVAL again on NOSCRIPT (a server
 * that lost its cache), and a reply deadline so a frozen
 * server can never stall a caller past its timeout. Every driver failure becomes a
 * {@link RedisUnavailableError} with the driver's error as `cause`.
 *
 * Reply deadlines share one timer per runner instead of arming a timer per call: an
 * uncontended acquire+release then costs no timer at all.
 */
export class ScriptRunner {
  private readonly timers = new DeadlineTimer();
  /** One queue per script, kept for the runner's life (an entry per tick would churn the Map). */
  private readonly queues = new Map<Script, ScriptQueue>();
  private readonly maxBatch: number;
  /** Batches waiting for a later event-loop turn (only with {@link RedisAdapter.coalescesWrites}). */
  private readonly nextTurns: { script: Script; batch: Batch }[] = [];
  /** A batch went to the driver this turn (only with {@link RedisAdapter.coalescesWrites}). */
  private sentThisTurn = false;
  private readonly oneBatchPerTurn: boolean;
  /** Per script, the slots it was sent to with EVAL (`ANY_SLOT` off a cluster): cached there, until a call fails. */
  private readonly evaluated = new Map<Script, Set<number>>();

  /** @param adapter - the driver adapter to run scripts on */
  constructor(readonly adapter: RedisAdapter) {
    const wanted = adapter.maxBatch;
    if (wanted !== undefined && !(Number.isInteger(wanted) && wanted >= 1)) {
      throw new InvalidArgumentError('adapter.maxBatch', `expected an integer >= 1, got ${String(wanted)}`);
    }
    this.maxBatch = wanted ?? MAX_BATCH;
    const coalesces = adapter.coalescesWrites;
    if (coalesces !== undefined && typeof coalesces !== 'boolean') {
      throw new InvalidArgumentError('adapter.coalescesWrites', `expected a boolean, got ${String(coalesces)}`);
    }
    this.oneBatchPerTurn = coalesces === true;
    adapter.watchConnection?.((error) => this.connectionChanged(error));
  }

  /**
   * The driver reported a failed attempt to connect (`error`; `undefined` once ready again): the
   * calls waiting for a reply are given up with the driver's reason, well before their deadline.
   * Their commands may still run if a later attempt succeeds (a late reply goes to their
   * `onLateReply`, as after a reply timeout). Calls made meanwhile are sent as usual — the driver
   * queues them — and wait for the driver's next attempt: given up if it fails too, answered if
   * the server is back. So an outage fails calls within the driver's retry delay, and no call
   * fails that a successful reconnect could still serve, as one refused at once would.
   */
  private connectionChanged(error: unknown): void {
    if (error === undefined) return;
    const down = connectionDown(error);
    for (const entry of this.timers.takeAll()) (entry as PendingCall).giveUp(down);
  }

  /** Run `script` with `keys` and `args`; resolves with the raw reply. */
  run(script: Script, keys: readonly string[], args: readonly ScriptArg[], options: RunOptions): Promise<unknown> {
    if (!Number.isFinite(options.timeoutMs) && !options.signal) {
      return new Promise((resolve, reject) => this.evalWithFallback(script, keys, args, resolve, reject));
    }
    return new Promise((resolve, reject) => {
      const pending = new PendingCall(script, options, this.timers, resolve, reject);
      this.evalWithFallback(
        script,
        keys,
        args,
        (reply) => pending.reply(reply),
        (err) => pending.giveUp(err),
      );
    });
  }

  /**
   * Run a batchable `script` (see {@link Script.batch}) for one lock: its `key`, or its keys
   * when the script takes several per lock ({@link Script.batchKeys}); resolves with that
   * lock's entry of the reply. Calls made in the same tick — e.g. many tasks acquiring their own
   * locks at once — travel together in one EVALSHA (at most {@link MAX_BATCH} locks or the
   * adapter's {@link RedisAdapter.maxBatch}, and on a
   * cluster only keys of one slot), so Redis runs one script instead of many. Each caller keeps
   * its own deadline, signal and late-reply handling; `parse` (default: none) turns its entry of
   * the reply into the resolved value, and an exception from it rejects that caller only.
   */
  runBatched<T = unknown>(
    script: Script,
    key: string | readonly string[],
    args: readonly ScriptArg[],
    options: RunOptions,
    parse?: (reply: unknown) => T,
  ): Promise<T> {
    const single = typeof key === 'string';
    const keyCount = single ? 1 : key.length;
    if (script.batch === undefined || args.length !== script.batch || keyCount !== (script.batchKeys ?? 1)) {
      throw new TypeError(`${script.name} is not a batch script taking ${keyCount} key(s) and ${args.length} arguments per lock`);
    }
    return new Promise<T>((resolve, reject) => {
      const pending = new PendingCall(script, options, this.timers, resolve as (reply: unknown) => void, reject, parse);
      // A lock's keys share a hash tag: its first key stands for its slot.
      const batch = this.batchFor(script, single ? key : (key[0] as string));
      if (single) batch.keys.push(key);
      else for (const k of key) batch.keys.push(k);
      for (const arg of args) batch.args.push(arg);
      batch.calls.push(pending);
      if (batch.calls.length >= this.maxBatch) {
        this.takeBatch(script, batch);
        this.dispatch(script, batch);
      }
    });
  }

  /** The open batch of `script` that `key` can join (keys of one call share a slot on a cluster). */
  private batchFor(script: Script, key: string): Batch {
    const slot = this.adapter.cluster === false ? ANY_SLOT : keySlot(key);
    let queue = this.queues.get(script);
    if (!queue) this.queues.set(script, (queue = { script, open: [], flushQueued: false }));
    if (!queue.flushQueued) {
      queue.flushQueued = true;
      // A microtask, not nextTick: callers resumed by one reply make their next call within the
      // same microtask drain, so they all land in this batch without a trip through Node's tick
      // queue (and a bare promise reaction is cheaper than queueMicrotask's async-hooks wrapper).
      const flushing = queue;
      void RESOLVED.then(() => this.flush(flushing));
    }
    // Usually one open batch (any slot, or few slots): a scan beats a Map per tick.
    for (const batch of queue.open) if (batch.slot === slot) return batch;
    const batch: Batch = { slot, keys: [], args: [], calls: [] };
    queue.open.push(batch);
    return batch;
  }

  private takeBatch(script: Script, batch: Batch): void {
    const open = this.queues.get(script)?.open;
    if (open) open.splice(open.indexOf(batch), 1);
  }

  private flush(queue: ScriptQueue): void {
    queue.flushQueued = false;
    // Out of the long-lived queue at once (splice empties it), so it never points at sent batches.
    for (const batch of queue.open.splice(0)) this.dispatch(queue.script, batch);
  }

  /**
   * Send `batch` now, or — on a driver that coalesces a turn's writes, once a batch already went
   * this turn — queue it for a later turn, one batch per turn (see {@link RedisAdapter.coalescesWrites}).
   */
  private dispatch(script: Script, batch: Batch): void {
    if (!this.oneBatchPerTurn) return this.send(script, batch);
    if (this.sentThisTurn) {
      this.nextTurns.push({ script, batch });
      return;
    }
    this.sentThisTurn = true;
    this.send(script, batch);
    // Scheduled after the send: the driver's own write (a setImmediate queued by the send) must
    // run before the next batch reaches the driver, or the two would share that write.
    setImmediate(this.nextTurn);
  }

  /** Once per turn while batches wait: the next one goes to the driver. */
  private readonly nextTurn = (): void => {
    const next = this.nextTurns.shift();
    if (!next) {
      this.sentThisTurn = false;
      return;
    }
    this.send(next.script, next.batch);
    setImmediate(this.nextTurn);
  };

  private send(script: Script, batch: Batch): void {
    const { keys, calls } = batch;
    this.evalWithFallback(
      script,
      keys,
      batch.args,
      (reply) => {
        if (!Array.isArray(reply) || reply.length !== calls.length) {
          const error = new RedisUnavailableError(`Redis answered ${script.name} for ${calls.length} keys with an unexpected reply`);
          for (const call of calls) call.giveUp(error);
          return;
        }
        for (let i = 0; i < calls.length; i++) (calls[i] as PendingCall).reply(reply[i]);
      },
      (err) => {
        for (const call of calls) call.giveUp(err);
      },
    );
  }

  /** The slots `script` was sent to with EVAL and has not failed on since (see evalWithFallback). */
  private cachedSlots(script: Script): Set<number> {
    let slots = this.evaluated.get(script);
    if (!slots) this.evaluated.set(script, (slots = new Set()));
    return slots;
  }

  /**
   * EVAL the first time a script goes to a server, then EVALSHA — and EVAL once more if the
   * server lost the script (a restart, `SCRIPT FLUSH`); hands the reply or the
   * wrapped failure to the callbacks. Callbacks rather than a returned promise: the driver's own
   * promise is the only one per call, which saves a promise and a microtask hop on every lock call.
   */
  private evalWithFallback(
    script: Script,
    keys: readonly string[],
    args: readonly ScriptArg[],
    onReply: (reply: unknown) => void,
    onError: (err: RedisUnavailableError) => void,
  ): void {
    // Only scripts that publish ask which pub/sub the adapter uses (one property read).
    if (script.sharded !== undefined) {
      const sharded = this.adapter.shardedPubSub;
      if (sharded === true) script = script.sharded;
      else if (sharded !== undefined && sharded !== false) {
        // The adapter is still finding out (it asks the server once): publish the way it will listen.
        const plain = script;
        sharded.then(
          (yes) => this.evalCached(yes ? (plain.sharded as Script) : plain, keys, args, onReply, onError),
          (err: unknown) => onError(wrap(plain, err)),
        );
        return;
      }
    }
    this.evalCached(script, keys, args, onReply, onError);
  }

  /** {@link evalWithFallback} once the script variant is chosen. */
  private evalCached(
    script: Script,
    keys: readonly string[],
    args: readonly ScriptArg[],
    onReply: (reply: unknown) => void,
    onError: (err: RedisUnavailableError) => void,
  ): void {
    // On a cluster the slot stands for the server: a script goes with EVAL once per slot at most.
    const slot = this.adapter.cluster === false || keys.length === 0 ? ANY_SLOT : keySlot(keys[0] as string);
    const cached = this.cachedSlots(script);
    if (!cached.has(slot)) {
      // EVAL, which caches the script on that server. An EVALSHA answered NOSCRIPT is retried
      // only once its reply is back, behind whatever was sent on the connection meanwhile: a
      // Redlock's undo of a partial grant then ran before the grant's retried acquire, and the
      // grant stayed until its ttl. Calls sent after this EVAL run after it, so EVALSHA is safe.
      cached.add(slot);
      settle(this.adapter, 'eval', script.source, keys, args, onReply, uncachedOnFailure(cached, slot, script, onError));
      return;
    }
    const fallback = (err: unknown): void => {
      const failed = uncachedOnFailure(cached, slot, script, onError);
      if (!isNoScript(err)) return failed(err);
      settle(this.adapter, 'eval', script.source, keys, args, onReply, failed);
    };
    settle(this.adapter, 'evalsha', script.sha, keys, args, onReply, fallback);
  }
}

/**
 * Calls `adapter[method]` and routes its outcome to the callbacks — also when a driver throws
 * instead of rejecting, which would otherwise escape from a batch flush.
 */
function settle(
  adapter: RedisAdapter,
  method: 'evalsha' | 'eval',
  script: string,
  keys: readonly string[],
  args: readonly ScriptArg[],
  onReply: (reply: unknown) => void,
  onError: (err: unknown) => void,
): void {
  let pending: Promise<unknown>;
  try {
    pending = adapter[method](script, keys, args);
  } catch (err) {
    onError(err);
    return;
  }
  pending.then(onReply, onError);
}

/**
 * The failure handler of a script call: any failure may mean a server that restarted with an
 * empty script cache, so the script goes with EVAL again the next time (`cached` forgets `slot`).
 */
function uncachedOnFailure(cached: Set<number>, slot: number, script: Script, onError: (err: RedisUnavailableError) => void): (err: unknown) => void {
  return (err) => {
    cached.delete(slot);
    onError(wrap(script, err));
  };
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

function wrap(script: Script, err: unknown): RedisUnavailableError {
  if (err instanceof RedisUnavailableError) return err;
  // A refused connection, an unknown host, a wrong password…: say what to check.
  const failure = connectionFailure(err);
  if (failure) return failure;
  const detail = err instanceof Error ? err.message : String(err);
  return new RedisUnavailableError(`Redis failed running ${script.name}: ${detail}`, err);
}
