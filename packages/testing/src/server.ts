import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { INSTALL_HINT, dockerAvailable, redisServerBin } from './binaries.js';
import { trackDir, trackPid, untrackDir, untrackPid } from './reaper.js';
import { parseInfo, sendCommandTo, type RespArg, type RespTarget, type RespValue } from './resp.js';
import { RingBuffer, delay, freePort } from './util.js';

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /**
   * Keep data across {@link RedisServer.restart}: turns on `--appendonly yes --appendfsync
   * always` (every write is on disk before it is acknowledged, so even a SIGKILL loses
   * nothing). Default false: `--save '' --appendonly no`, a restart comes back empty.
   */
  persistence?: boolean;
  /** Extra redis-server arguments, appended last so they override the defaults. */
  args?: string[];
  /** Milliseconds to wait for the server to answer PING. Default 20 000. */
  startTimeout?: number;
  /**
   * Also listen with TLS (local servers only; needs `openssl` and a redis-server built with TLS,
   * as Debian's is): a throwaway CA and a server certificate for 127.0.0.1 are made in the
   * server's dir, and {@link RedisServer.tls} tells the `rediss://` URL and the CA to trust.
   * The plain port stays open for the harness.
   */
  tls?: boolean;
}

/** Where and how to reach a server started with {@link StartRedisOptions.tls}. */
export interface TlsEndpoint {
  readonly port: number;
  /** `rediss://127.0.0.1:PORT` */
  readonly url: string;
  /** The PEM of the test CA that signed the server's certificate: give it to the client as `ca`. */
  readonly ca: string;
}

/** Options of {@link RedisServer.restart}. */
export interface RestartOptions {
  /**
   * How to end the running process first: `SIGTERM` (default) is a clean shutdown,
   * `SIGKILL` a crash. Ignored if the server is not running (e.g. after `kill()`).
   */
  signal?: 'SIGTERM' | 'SIGKILL';
}

/** Options of {@link RedisServer.stop}. */
export interface StopOptions {
  /**
   * Keep the data dir so a later {@link RedisServer.restart} finds the data. Defaults to the
   * server's `persistence` option. A kept dir is still removed when this process exits.
   */
  keepDir?: boolean;
}

/**
 * A Redis server for tests: a redis-server child process (the usual case), a Docker
 * container (when redis-server is not installed), or an existing server from `REDIS_URL`
 * (only through `useRedis()`); {@link RedisServer.kind} says which. Process control
 * (`kill`, `pause`, `resume`, `restart`) exists only for `local` servers and throws otherwise.
 */
export interface RedisServer {
  /** Where the server runs: `local` child process, `docker` container, or `external` (REDIS_URL). */
  readonly kind: 'local' | 'docker' | 'external';
  /** Always `127.0.0.1` for local servers. */
  readonly host: string;
  readonly port: number;
  /**
   * `redis://host:port`; with `--requirepass` in the args, `redis://:password@host:port`; for an
   * external server, `REDIS_URL` itself.
   */
  readonly url: string;
  /** The TLS port, URL and CA, for a server started with {@link StartRedisOptions.tls}. */
  readonly tls?: TlsEndpoint;
  /** The redis-server process id (changes on restart); undefined unless `kind` is `local`. */
  readonly pid: number | undefined;
  /** The server's working dir (data, AOF); undefined unless `kind` is `local`. */
  readonly dir: string | undefined;
  /** Whether the process is running (a paused server is running). */
  readonly running: boolean;
  /** Sends one command over a fresh connection; see {@link sendCommand}. */
  command(...args: RespArg[]): Promise<RespValue>;
  /**
   * Shuts the server down (SIGTERM, then SIGKILL after 2 s), waits for it to exit and removes
   * its temp dir (see {@link StopOptions.keepDir}). Idempotent. For an external server this
   * does nothing: it is not ours to stop.
   */
  stop(options?: StopOptions): Promise<void>;
  /**
   * Sends a signal, SIGKILL by default (a crash). For SIGKILL, SIGTERM, SIGINT and SIGQUIT
   * it resolves once the process has exited. The dir is kept, so `restart()` can follow.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts the server again on the same port, with the same dir and arguments, and waits
   * for PING. A running server is stopped first (see {@link RestartOptions}). With
   * `persistence` the data survives; without, it comes back empty.
   */
  restart(options?: RestartOptions): Promise<void>;
  /** SIGSTOP: the process freezes; connections stay open but nothing is answered. */
  pause(): Promise<void>;
  /** SIGCONT: undoes {@link RedisServer.pause}. */
  resume(): Promise<void>;
  /** `DBSIZE`. */
  dbsize(): Promise<number>;
  /** `KEYS pattern` (default `*`): fine on a test server, never on a real one. */
  keys(pattern?: string): Promise<string[]>;
  /** `FLUSHALL`. */
  flushall(): Promise<void>;
  /** The tail of the server's stdout/stderr (its log), to print when a test fails. */
  logs(): string;
  /** Same as `stop()`, for `await using server = await startRedis()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Thrown internally when redis-server could not bind its port; the caller retries elsewhere. */
export class AddressInUseError extends Error {
  constructor(port: number, log: string) {
    super(`port ${port} is already in use\n${log}`);
    this.name = 'AddressInUseError';
  }
}

/** What a {@link LocalRedisServer} needs to start (and restart) its process. */
export interface LocalServerSpec {
  bin: string;
  port: number;
  dir: string;
  /** Full redis-server argv, reused as is on restart. */
  argv: string[];
  /** Whether stop() keeps the dir by default. */
  persistence: boolean;
  /** Used in error messages, e.g. `redis-server`, `sentinel`, `cluster node`. */
  label: string;
  startTimeout: number;
}

/** Reads the scheduler state letter from /proc (Linux), e.g. `S`, `R`, `T` (stopped). */
async function procState(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ...": comm may hold spaces or parentheses, so look after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined; // no /proc (macOS) or the process is gone: nothing to wait for
  }
}

/** Polls {@link procState} (up to ~2 s) until `done` accepts it. */
async function waitForState(pid: number, done: (state: string | undefined) => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (done(await procState(pid))) return;
    await delay(5);
  }
}

/** Signals after which we wait for the process to be gone. */
const FATAL = new Set<NodeJS.Signals>(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGQUIT']);

/** A redis-server child process (also used for cluster nodes and sentinels). */
export class LocalRedisServer implements RedisServer {
  readonly kind = 'local' as const;
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  private readonly spec: LocalServerSpec;
  /** How the harness itself reaches the server (with the `--requirepass` password, if any). */
  private readonly target: RespTarget;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly log = new RingBuffer();
  private removed = false;

  constructor(spec: LocalServerSpec) {
    this.spec = spec;
    this.port = spec.port;
    this.dir = spec.dir;
    // The last --requirepass wins, as in redis-server itself.
    const at = spec.argv.lastIndexOf('--requirepass');
    const password = at === -1 ? undefined : spec.argv[at + 1];
    this.target = password ? { port: spec.port, password } : { port: spec.port };
    this.url = password
      ? `redis://:${encodeURIComponent(password)}@127.0.0.1:${spec.port}`
      : `redis://127.0.0.1:${spec.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /**
   * Spawns the process and resolves once it answers and has loaded its dataset — `INFO` rather
   * than PING, to check the pid it reports is our child's: a stranger that grabbed the port first
   * must not pass for our server.
   */
  async spawnAndWait(): Promise<void> {
    const { bin, argv, dir, port, label, startTimeout } = this.spec;
    // detached: false keeps the server in our process group, so Ctrl-C reaches it too.
    const child = spawn(bin, argv, { cwd: dir, detached: false, stdio: ['ignore', 'pipe', 'pipe'] });
    let spawnError: Error | undefined;
    let exitReason: string | undefined;
    // 'close' comes after 'exit' once the pipes are drained: the last log lines (the reason it
    // died) may still be in flight when 'exit' fires.
    const drained = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        spawnError = err;
        if (this.child === child) this.child = undefined;
        resolve();
      });
      child.once('exit', (code, signal) => {
        exitReason = signal ? `signal ${signal}` : `exit code ${code}`;
        if (child.pid) untrackPid(child.pid);
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => this.log.push(chunk));
      // Unref'd pipes and process: a script that forgets stop() can still exit, and the
      // reaper's 'exit' hook then kills the server.
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
    }
    child.unref();
    this.child = child;
    if (child.pid) trackPid(child.pid);

    const deadline = Date.now() + startTimeout;
    let lastError = '';
    for (;;) {
      if (spawnError) throw new Error(`could not start ${label} (${bin}): ${spawnError.message}. ${INSTALL_HINT}`);
      if (exitReason !== undefined) {
        // Bounded: a forked child (BGSAVE) could hold the pipes open after the server died.
        await Promise.race([drained, delay(500)]);
        const log = this.log.toString();
        if (/Address already in use|Could not create server TCP listening socket/i.test(log)) {
          throw new AddressInUseError(port, log);
        }
        throw new Error(`${label} on port ${port} exited during start-up (${exitReason}):\n${log}`);
      }
      try {
        // INFO answers while the dataset is still loading (other commands get -LOADING): wait for loading:0 (a sentinel reports no loading field).
        const info = parseInfo(await sendCommandTo({ ...this.target, timeout: 1_000 }, 'INFO', 'server', 'persistence'));
        if (Number(info.process_id) === child.pid && info.loading !== '1') return;
        lastError = Number(info.process_id) === child.pid ? 'still loading its dataset' : `port ${port} is answered by another process (pid ${info.process_id})`;
      } catch (err) {
        // ECONNREFUSED until it listens; -LOADING while it replays the AOF.
        lastError = (err as Error).message;
      }
      if (Date.now() > deadline) {
        await this.terminate('SIGKILL', 0);
        throw new Error(`${label} on port ${port} did not answer within ${startTimeout} ms (${lastError}):\n${this.log}`);
      }
      await delay(15);
    }
  }

  /** Sends `signal` and waits for exit, escalating to SIGKILL after `graceMs` (never if 0 with SIGKILL). */
  private async terminate(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    const pid = child.pid;
    try {
      process.kill(pid, signal);
      // A paused (SIGSTOPped) process would hold SIGTERM until continued.
      if (signal !== 'SIGKILL') process.kill(pid, 'SIGCONT');
    } catch {
      // already gone; 'exit' is on its way
    }
    const escalate = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, graceMs);
    // The child and its pipes are unref'd, so without a ref'd handle of our own the event loop
    // could run dry (and the process exit) while we wait for its 'exit' event.
    const keepAlive = setInterval(() => {}, 1_000);
    try {
      await this.exited;
    } finally {
      clearTimeout(escalate);
      clearInterval(keepAlive);
    }
  }

  command(...args: RespArg[]): Promise<RespValue> {
    return sendCommandTo(this.target, ...args);
  }

  async stop(options: StopOptions = {}): Promise<void> {
    await this.terminate('SIGTERM', 2_000);
    const keepDir = options.keepDir ?? this.spec.persistence;
    if (!keepDir && !this.removed) {
      this.removed = true;
      await rm(this.dir, { recursive: true, force: true });
      untrackDir(this.dir);
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (FATAL.has(signal)) return this.terminate(signal, signal === 'SIGKILL' ? 0 : 10_000);
    const pid = this.child?.pid;
    if (!pid) throw new Error(`${this.spec.label} on port ${this.port} is not running`);
    process.kill(pid, signal);
  }

  async restart(options: RestartOptions = {}): Promise<void> {
    await this.terminate(options.signal ?? 'SIGTERM', options.signal === 'SIGKILL' ? 0 : 2_000);
    if (this.removed) {
      // stop() removed the dir: start afresh in a new one at the same path.
      this.removed = false;
      await mkdir(this.dir, { recursive: true });
      trackDir(this.dir);
    }
    // The port was ours a moment ago; a stranger may still grab it in between, so retry
    // briefly before giving up (we must keep the port: clients are configured with it).
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.spawnAndWait();
      } catch (err) {
        if (!(err instanceof AddressInUseError) || attempt >= 20) throw err;
        await delay(150);
      }
    }
  }

  async pause(): Promise<void> {
    const pid = this.requirePid();
    process.kill(pid, 'SIGSTOP');
    // Signal delivery is asynchronous; make "paused" true when this resolves.
    await waitForState(pid, (state) => state === 'T' || state === undefined);
  }

  async resume(): Promise<void> {
    const pid = this.requirePid();
    process.kill(pid, 'SIGCONT');
    await waitForState(pid, (state) => state !== 'T');
  }

  async dbsize(): Promise<number> {
    return Number(await this.command('DBSIZE'));
  }

  async keys(pattern = '*'): Promise<string[]> {
    return (await this.command('KEYS', pattern)) as string[];
  }

  async flushall(): Promise<void> {
    await this.command('FLUSHALL');
  }

  logs(): string {
    return this.log.toString();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  private requirePid(): number {
    const pid = this.child?.pid;
    if (!pid) throw new Error(`${this.spec.label} on port ${this.port} is not running`);
    return pid;
  }
}

/** Options of {@link launchLocal}. */
export interface LaunchOptions {
  bin: string;
  label: string;
  persistence: boolean;
  startTimeout: number;
  /** Prefix of the temp dir name. */
  dirPrefix: string;
  /**
   * Picks the port(s) and builds the argv; called again with fresh ports when the chosen one
   * was taken between {@link freePort} and the server's bind.
   */
  configure(dir: string): Promise<{ port: number; argv: string[] }>;
}

/** Creates a temp dir, starts a {@link LocalRedisServer} in it, retrying on EADDRINUSE. */
export async function launchLocal(options: LaunchOptions): Promise<LocalRedisServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), options.dirPrefix));
  trackDir(dir);
  for (let attempt = 1; ; attempt++) {
    const { port, argv } = await options.configure(dir);
    const server = new LocalRedisServer({
      bin: options.bin,
      port,
      dir,
      argv,
      persistence: options.persistence,
      label: options.label,
      startTimeout: options.startTimeout,
    });
    try {
      await server.spawnAndWait();
      return server;
    } catch (err) {
      if (err instanceof AddressInUseError && attempt < 10) continue;
      await rm(dir, { recursive: true, force: true });
      untrackDir(dir);
      throw err;
    }
  }
}

/** The arguments every local server gets; `extra` comes last so it can override them. */
export function baseArgs(port: number, dir: string, persistence: boolean, extra: string[] = []): string[] {
  return [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--protected-mode', 'no',
    '--dir', dir,
    '--daemonize', 'no',
    // Log to stdout, which feeds the ring buffer behind logs().
    '--logfile', '',
    '--save', '',
    ...(persistence ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    // Replicas (cluster, sentinel, --replicaof tests) sync at once instead of the 5 s that a
    // diskless full sync waits by default for more replicas to join.
    '--repl-diskless-sync-delay', '0',
    // DEBUG SLEEP / DEBUG SET-ACTIVE-EXPIRE etc. are handy to simulate slow or odd servers.
    '--enable-debug-command', 'yes',
    ...extra,
  ];
}

/** Starts a local redis-server with {@link baseArgs}; see {@link startRedis}. */
export async function startLocalRedis(bin: string, options: StartRedisOptions = {}): Promise<LocalRedisServer> {
  const persistence = options.persistence ?? false;
  let tls: TlsEndpoint | undefined;
  const server = await launchLocal({
    bin,
    label: 'redis-server',
    persistence,
    startTimeout: options.startTimeout ?? 20_000,
    dirPrefix: 'hilok-redis-',
    async configure(dir) {
      const port = await freePort();
      if (!options.tls) return { port, argv: baseArgs(port, dir, persistence, options.args) };
      const [tlsPort, ca] = [await freePort(), await makeTestCertificates(dir)];
      tls = { port: tlsPort, url: `rediss://127.0.0.1:${tlsPort}`, ca };
      const files = ['--tls-port', String(tlsPort), '--tls-cert-file', 'server.crt', '--tls-key-file', 'server.key', '--tls-ca-cert-file', 'ca.crt', '--tls-auth-clients', 'no'];
      return { port, argv: baseArgs(port, dir, persistence, [...files, ...(options.args ?? [])]) };
    },
  });
  return tls ? Object.assign(server, { tls }) : server;
}

/**
 * A throwaway CA and a server certificate for 127.0.0.1 / localhost signed by it, made with
 * `openssl` in `dir` (ca.crt, server.crt, server.key); returns the CA's PEM.
 */
async function makeTestCertificates(dir: string): Promise<string> {
  const run = (...args: string[]) =>
    new Promise<void>((resolve, reject) =>
      execFile('openssl', args, { cwd: dir }, (err, _out, stderr) => (err ? reject(new Error(`openssl ${args[0]} failed: ${stderr || err.message}`)) : resolve())),
    );
  await writeFile(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=hilok test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  await run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  await run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.crt');
  return readFile(path.join(dir, 'ca.crt'), 'utf8');
}

/**
 * Starts a throwaway Redis server and resolves once it answers.
 *
 * Normally a `redis-server` child process on a free 127.0.0.1 port, in a fresh temp dir, with
 * no persistence (see {@link StartRedisOptions.persistence}) and `DEBUG` enabled. Without
 * redis-server on PATH but with a Docker engine, a `redis:7` container (through
 * testcontainers; `kill`/`pause`/`restart` are then unavailable). Otherwise it throws,
 * explaining what to install. Always pair with `stop()`.
 *
 * @example
 * const server = await startRedis();
 * afterAll(() => server.stop());
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const bin = redisServerBin();
  if (bin) return startLocalRedis(bin, options);
  if (options.tls) throw new Error('startRedis({ tls: true }) needs a local redis-server (with TLS) and openssl');
  if (await dockerAvailable()) {
    const { startDockerRedis } = await import('./docker.js');
    return startDockerRedis(options);
  }
  throw new Error(`redis-server is not on PATH and no Docker engine answers \`docker info\`. ${INSTALL_HINT}`);
}

/** N independent servers, e.g. for Redlock; see {@link startRedisInstances}. */
export interface RedisInstances {
  readonly servers: RedisServer[];
  /** `redis://127.0.0.1:PORT` of each server, in order. */
  readonly urls: string[];
  /** Stops every server (in parallel). */
  stopAll(): Promise<void>;
  /** Same as `stopAll()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `n` independent servers in parallel (no replication between them) — the setup
 * Redlock's quorum is about. If one fails to start, the others are stopped before rejecting.
 */
export async function startRedisInstances(n: number, options: StartRedisOptions = {}): Promise<RedisInstances> {
  const results = await Promise.allSettled(Array.from({ length: n }, () => startRedis(options)));
  const servers = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(servers.map((s) => s.stop({ keepDir: false })));
    throw failed.reason;
  }
  const stopAll = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  return { servers, urls: servers.map((s) => s.url), stopAll, [Symbol.asyncDispose]: stopAll };
}
