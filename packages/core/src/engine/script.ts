import type { RedisAdapter, ScriptArg } from '../adapter.js';
import { RedisUnavailableError } from '../errors.js';

/** A Lua script compiled into the package at build time. */
export interface Script {
  /** Script name (from its file name), used in error messages. */
  readonly name: string;
  /** SHA1 of `source`, for EVALSHA. */
  readonly sha: string;
  /** The Lua source. */
  readonly source: string;
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

/**
 * Runs compiled scripts through an adapter: EVALSHA first, EVAL on NOSCRIPT (which also loads
 * the script into the server's cache, per node on a cluster), and a reply deadline so a frozen
 * server can never stall a caller past its timeout. Every driver failure becomes a
 * {@link RedisUnavailableError} with the driver's error as `cause`.
 */
export class ScriptRunner {
  /** @param adapter - the driver adapter to run scripts on */
  constructor(readonly adapter: RedisAdapter) {}

  /** Run `script` with `keys` and `args`; resolves with the raw reply. */
  run(script: Script, keys: readonly string[], args: readonly ScriptArg[], options: RunOptions): Promise<unknown> {
    const call = this.evalWithFallback(script, keys, args);
    const { timeoutMs, signal, onLateReply } = options;
    if (!Number.isFinite(timeoutMs) && !signal) return call;
    if (signal?.aborted) {
      call.then(onLateReply, () => undefined);
      return Promise.reject(signal.reason);
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const giveUp = (reason: unknown): void => {
        if (settled) return;
        settled = true;
        cleanup();
        reject(reason);
      };
      const onAbort = (): void => giveUp(signal?.reason);
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => giveUp(new ReplyTimeoutError(script.name, timeoutMs)), Math.max(0, timeoutMs))
        : undefined;
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      call.then(
        (reply) => {
          if (settled) return onLateReply?.(reply);
          settled = true;
          cleanup();
          resolve(reply);
        },
        (err: unknown) => giveUp(err),
      );
    });
  }

  private async evalWithFallback(script: Script, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    try {
      return await this.adapter.evalsha(script.sha, keys, args);
    } catch (err) {
      if (!isNoScript(err)) throw wrap(script, err);
    }
    try {
      return await this.adapter.eval(script.source, keys, args);
    } catch (err) {
      throw wrap(script, err);
    }
  }
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

function wrap(script: Script, err: unknown): RedisUnavailableError {
  if (err instanceof RedisUnavailableError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new RedisUnavailableError(`Redis failed running ${script.name}: ${detail}`, err);
}
