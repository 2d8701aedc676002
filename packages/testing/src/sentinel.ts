import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireRedisServer } from './binaries.js';
import type { NodeAddress } from './cluster.js';
import { RedisReplyError, parseInfo, type RespValue } from './resp.js';
import { launchLocal, startLocalRedis, type LocalRedisServer, type RedisServer } from './server.js';
import { freePort, waitFor } from './util.js';

/** Options of {@link startSentinelGroup}. */
export interface StartSentinelOptions {
  /** The monitored master's name. Default `hilok`. */
  masterName?: string;
  /** Milliseconds for the whole start, and for each `failover()`. Default 30 000. */
  timeout?: number;
}

/** A master, its replica and three sentinels watching them; see {@link startSentinelGroup}. */
export interface SentinelGroup {
  /** The name the sentinels know the master by (`hilok` unless changed). */
  readonly masterName: string;
  /** The server that is master now (swaps with `replica` after each `failover()`). */
  readonly master: RedisServer;
  /** The server that is a replica now. */
  readonly replica: RedisServer;
  /** `{ host, port }` of the three sentinels: what sentinel-aware clients are configured with. */
  readonly sentinels: NodeAddress[];
  /** The three sentinel processes, for killing or pausing one. */
  readonly sentinelServers: RedisServer[];
  /**
   * Forces a failover (`SENTINEL FAILOVER`) and resolves once the replica reports
   * `role:master`, every sentinel names it as master, and — if the old master is still
   * running — the old master is its in-sync replica (so a second `failover()` works too).
   * `NOGOODSLAVE` (sentinel has not yet re-checked the replica after a previous failover) is
   * retried until the group's `timeout`.
   */
  failover(): Promise<void>;
  /** Stops the sentinels, then both servers, and removes their dirs. */
  stop(): Promise<void>;
  /** Same as `stop()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** `SENTINEL REPLICAS`/`SENTINELS` answer flat `[k1, v1, k2, v2, ...]` arrays; make records. */
function records(reply: RespValue): Record<string, string>[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((flat) => {
    const out: Record<string, string> = {};
    if (Array.isArray(flat)) for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
    return out;
  });
}

/** Where a sentinel says the master is, as a port (undefined if it does not know). */
async function masterPortSeenBy(sentinel: RedisServer, name: string): Promise<number | undefined> {
  const addr = await sentinel.command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name);
  return Array.isArray(addr) ? Number(addr[1]) : undefined;
}

/**
 * Whether `sentinel` sees `masterPort` as the master, `replicaPort` as a healthy replica of
 * it, and both other sentinels (it must know its peers for the quorum of 2 to be reachable
 * when a test kills the master instead of forcing a failover).
 */
async function settled(sentinel: RedisServer, name: string, masterPort: number, replicaPort: number): Promise<boolean> {
  if ((await masterPortSeenBy(sentinel, name)) !== masterPort) return false;
  const replicas = records(await sentinel.command('SENTINEL', 'REPLICAS', name));
  const replica = replicas.find((r) => Number(r.port) === replicaPort);
  if (!replica || replica.flags !== 'slave' || replica['master-link-status'] !== 'ok') return false;
  const peers = records(await sentinel.command('SENTINEL', 'SENTINELS', name));
  return peers.filter((p) => !p.flags?.includes('down')).length === 2;
}

/** The `role` and link state a server reports in INFO replication. */
async function replication(server: RedisServer): Promise<Record<string, string>> {
  return parseInfo(await server.command('INFO', 'replication'));
}

/** Starts one sentinel on a free port with a freshly written sentinel.conf in its dir. */
function startSentinel(bin: string, name: string, masterPort: number, timeout: number): Promise<LocalRedisServer> {
  return launchLocal({
    bin,
    label: 'sentinel',
    persistence: false,
    startTimeout: timeout,
    dirPrefix: 'hilok-sentinel-',
    async configure(dir) {
      const port = await freePort();
      const conf = path.join(dir, 'sentinel.conf');
      // Sentinel rewrites this file with what it learns (replicas, peers, its id); it must be
      // writable, and a restart() reuses it as rewritten — like a real sentinel restart.
      await writeFile(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          'protected-mode no',
          'daemonize no',
          'logfile ""',
          `dir ${dir}`,
          'sentinel resolve-hostnames no',
          `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
          // Fast detection and retries: the defaults (30 s, 3 min) are for production.
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 3000`,
          '',
        ].join('\n'),
      );
      return { port, argv: [conf, '--sentinel'] };
    },
  });
}

/**
 * Starts a Sentinel setup on local processes: a master, one replica (`--replicaof`) and three
 * sentinels (quorum 2, `down-after-milliseconds` 1000, `failover-timeout` 3000). Resolves once
 * the replica is in sync and every sentinel knows the master, the replica and both peers.
 *
 * @example
 * const group = await startSentinelGroup();
 * const client = new Redis({ sentinels: group.sentinels, name: group.masterName }); // ioredis
 * await group.failover();
 */
export async function startSentinelGroup(options: StartSentinelOptions = {}): Promise<SentinelGroup> {
  const { masterName = 'hilok', timeout = 30_000 } = options;
  const bin = requireRedisServer('startSentinelGroup()');
  const deadline = Date.now() + timeout;
  const left = () => Math.max(1_000, deadline - Date.now());
  const started: LocalRedisServer[] = [];
  const sentinelServers: LocalRedisServer[] = [];
  const stop = async () => {
    // Sentinels first, so they do not react to the servers going away.
    await Promise.all(sentinelServers.map((s) => s.stop()));
    await Promise.all(started.map((s) => s.stop()));
  };

  try {
    const first = await startLocalRedis(bin, { startTimeout: timeout });
    started.push(first);
    const second = await startLocalRedis(bin, {
      startTimeout: timeout,
      args: ['--replicaof', '127.0.0.1', String(first.port)],
    });
    started.push(second);
    await waitFor(async () => (await replication(second)).master_link_status === 'up', {
      timeout: left(),
      message: 'the replica to sync',
    });
    sentinelServers.push(
      ...(await Promise.all([0, 1, 2].map(() => startSentinel(bin, masterName, first.port, timeout)))),
    );
    // Peers find each other through hello messages published every 2 s, so this takes ~2-3 s.
    await Promise.all(
      sentinelServers.map((s) =>
        waitFor(() => settled(s, masterName, first.port, second.port), {
          timeout: left(),
          interval: 100,
          message: `sentinel ${s.port} to discover the replica and its peers`,
        }),
      ),
    );

    let master: LocalRedisServer = first;
    let replica: LocalRedisServer = second;
    const failover = async () => {
      const until = Date.now() + timeout;
      const remaining = () => Math.max(1_000, until - Date.now());
      const [from, to] = [master, replica];
      const asker = sentinelServers[0];
      if (!asker) throw new Error('no sentinel');
      // NOGOODSLAVE / INPROG are transient right after a previous failover: retry them.
      await waitFor(
        async () => {
          try {
            return (await asker.command('SENTINEL', 'FAILOVER', masterName)) === 'OK';
          } catch (err) {
            if (err instanceof RedisReplyError && /NOGOODSLAVE|INPROG/.test(err.code)) return false;
            throw err;
          }
        },
        { timeout: remaining(), interval: 100, message: 'SENTINEL FAILOVER to be accepted' },
      );
      await waitFor(async () => (await replication(to)).role === 'master', {
        timeout: remaining(),
        message: `the replica ${to.port} to become master`,
      });
      // The sentinel that ran the failover switches at once; its peers learn the new epoch
      // from hello messages (published every 2 s).
      await Promise.all(
        sentinelServers.map((s) =>
          waitFor(async () => (await masterPortSeenBy(s, masterName)) === to.port, {
            timeout: remaining(),
            interval: 100,
            message: `sentinel ${s.port} to name ${to.port} as master`,
          }),
        ),
      );
      master = to;
      replica = from;
      if (!from.running) return; // a test killed the old master: nothing more to reconfigure
      // Sentinel turns the old master into a replica only when its next INFO poll of it shows
      // role:master, which for replicas happens every 10 s. Doing what it would do (REPLICAOF
      // the new master) now saves those seconds and makes a second failover() possible at once.
      const info = await replication(from);
      if (info.role !== 'slave' || Number(info.master_port) !== to.port) {
        await from.command('REPLICAOF', '127.0.0.1', to.port);
      }
      await waitFor(
        async () => {
          const now = await replication(from);
          return now.role === 'slave' && Number(now.master_port) === to.port && now.master_link_status === 'up';
        },
        { timeout: remaining(), message: `the old master ${from.port} to resync as a replica` },
      );
    };

    return {
      masterName,
      get master() {
        return master;
      },
      get replica() {
        return replica;
      },
      sentinels: sentinelServers.map((s) => ({ host: s.host, port: s.port })),
      sentinelServers,
      failover,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    const logs = [...started, ...sentinelServers]
      .map((s) => `--- ${s.port} ---\n${s.logs().split('\n').slice(-15).join('\n')}`)
      .join('\n');
    await stop();
    if (err instanceof Error) err.message += `\n${logs}`;
    throw err;
  }
}
