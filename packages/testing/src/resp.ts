import net from 'node:net';

/**
 * A RESP2 reply, decoded: simple and bulk strings become `string`, integers `number`, nil bulk
 * strings and nil arrays `null`, arrays nested {@link RespValue} arrays. Error replies are
 * not values: they reject with a {@link RedisReplyError}.
 */
export type RespValue = string | number | null | RespValue[];

/** What a command argument may be; numbers are sent as their decimal text, Buffers verbatim. */
export type RespArg = string | number | Buffer;

/** An error reply (`-ERR ...`, `-LOADING ...`, `-MOVED ...`) from the server. */
export class RedisReplyError extends Error {
  /** The first word of the reply, e.g. `ERR`, `LOADING`, `MOVED`, `NOGOODSLAVE`. */
  readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = 'RedisReplyError';
    this.code = message.split(' ', 1)[0] ?? '';
  }
}

/** Where {@link sendCommandTo} connects, and how long it waits. */
export interface RespTarget {
  /** Defaults to `127.0.0.1`. */
  host?: string;
  port: number;
  /** Sent with `AUTH` first when set. */
  password?: string;
  /** ACL user for `AUTH`; only used together with `password`. */
  username?: string;
  /** `SELECT`ed first when set and not 0. */
  db?: number;
  /**
   * Milliseconds for connect + reply before rejecting (and destroying the socket). Defaults to
   * 10 000 — long enough for a noisy CI box, short enough that a paused server fails a test
   * instead of hanging it.
   */
  timeout?: number;
}

/** Encodes one command as a RESP array of bulk strings (the only form servers must accept). */
export function encodeCommand(args: readonly RespArg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const body = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
    parts.push(Buffer.from(`$${body.length}\r\n`), body, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Returned by {@link parseReply} when the buffer does not yet hold a whole reply. */
const INCOMPLETE = Symbol('incomplete');

type Parsed = { value: RespValue | RedisReplyError; end: number } | typeof INCOMPLETE;

/**
 * Parses one RESP2 reply starting at `start`. An error reply nested in an array (only EXEC
 * does that) becomes the result of the whole reply: this helper is for test plumbing, where
 * any error is a failure, and it keeps {@link RespValue} free of error values.
 */
function parseReply(buf: Buffer, start: number): Parsed {
  const lineEnd = buf.indexOf('\r\n', start);
  if (lineEnd === -1) return INCOMPLETE;
  const type = String.fromCharCode(buf[start] ?? 0);
  const line = buf.toString('utf8', start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new RedisReplyError(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return INCOMPLETE;
      return { value: buf.toString('utf8', next, next + len), end: next + len + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RespValue[] = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, pos);
        if (item === INCOMPLETE) return INCOMPLETE;
        // The connection is dropped after an error anyway, so the rest need not be parsed.
        if (item.value instanceof RedisReplyError) return item;
        items.push(item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)} in ${JSON.stringify(buf.toString('utf8', start, start + 40))}`);
  }
}

/**
 * Opens a connection, sends `commands` pipelined, and resolves with the reply to the LAST
 * one; earlier replies (AUTH, SELECT) reject if they are errors. A fresh connection per call
 * keeps this helper stateless: nothing to close, nothing shared between tests.
 */
function exchange(target: RespTarget, commands: RespArg[][]): Promise<RespValue> {
  const { host = '127.0.0.1', port, timeout = 10_000 } = target;
  return new Promise<RespValue>((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    let pos = 0;
    const replies: RespValue[] = [];
    let settled = false;
    const finish = (err: Error | null, value?: RespValue) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value ?? null);
    };
    const timer = setTimeout(
      () => finish(new Error(`redis ${host}:${port} did not answer ${String(commands.at(-1)?.[0])} within ${timeout} ms`)),
      timeout,
    );
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(Buffer.concat(commands.map(encodeCommand))));
    socket.on('data', (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf.subarray(pos), chunk]);
      pos = 0;
      try {
        while (replies.length < commands.length) {
          const parsed = parseReply(buf, pos);
          if (parsed === INCOMPLETE) return;
          pos = parsed.end;
          if (parsed.value instanceof RedisReplyError) return finish(parsed.value);
          replies.push(parsed.value);
        }
        finish(null, replies.at(-1) ?? null);
      } catch (err) {
        finish(err as Error);
      }
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error(`redis ${host}:${port} closed the connection before replying`)));
  });
}

/**
 * Sends one command to a Redis server (RESP2, fresh connection) and resolves with its
 * decoded reply; an error reply rejects with {@link RedisReplyError}.
 *
 * @example
 * await sendCommandTo({ port: 6379, password: 's3cret' }, 'DBSIZE'); // 0
 */
export function sendCommandTo(target: RespTarget, ...args: RespArg[]): Promise<RespValue> {
  if (args.length === 0) return Promise.reject(new Error('sendCommandTo needs a command'));
  const commands: RespArg[][] = [];
  if (target.password !== undefined) {
    commands.push(target.username ? ['AUTH', target.username, target.password] : ['AUTH', target.password]);
  }
  if (target.db) commands.push(['SELECT', target.db]);
  commands.push(args);
  return exchange(target, commands);
}

/**
 * Sends one command to the Redis server on `127.0.0.1:port` and resolves with its decoded
 * reply. Handy in tests for what client libraries make awkward: `CLIENT PAUSE`, `DEBUG
 * SLEEP`, `DBSIZE`, `KEYS *`, `FLUSHALL`.
 *
 * @example
 * await sendCommand(server.port, 'CLIENT', 'PAUSE', 500, 'ALL');
 * await sendCommand(server.port, 'KEYS', '*'); // ['a', 'b']
 */
export function sendCommand(port: number, ...args: RespArg[]): Promise<RespValue> {
  return sendCommandTo({ port }, ...args);
}

/** Parses the `key:value` lines of an `INFO` or `CLUSTER INFO` reply into a record. */
export function parseInfo(text: RespValue): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof text !== 'string') return out;
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}
