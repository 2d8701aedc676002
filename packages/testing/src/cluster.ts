import { execFile } from 'node:child_process';
import clusterKeySlot from 'cluster-key-slot';
import { requireRedisCli, requireRedisServer } from './binaries.js';
import { parseInfo } from './resp.js';
import { baseArgs, launchLocal, type LocalRedisServer, type RedisServer } from './server.js';
import { freePort, waitFor } from './util.js';

/** Options of {@link startCluster}. */
export interface StartClusterOptions {
  /** Number of masters; the 16384 slots are split evenly between them. Default 3 (the minimum). */
  masters?: number;
  /** Replicas per master. Default 0. */
  replicas?: number;
  /** Extra redis-server arguments for every node. */
  args?: string[];
  /** Milliseconds for the whole start (nodes, create, convergence). Default 30 000. */
  timeout?: number;
}

/** A host/port pair, the shape cluster clients take their seed nodes in. */
export interface NodeAddress {
  host: string;
  port: number;
}

/** A running Redis Cluster made of local redis-server processes; see {@link startCluster}. */
export interface Cluster {
  /** Every node, masters first as created, then replicas. */
  readonly nodes: RedisServer[];
  /** The nodes that were masters when the cluster was created. */
  readonly masters: RedisServer[];
  /** The nodes that were replicas when the cluster was created. */
  readonly replicas: RedisServer[];
  /** `{ host, port }` of every node: seed nodes for ioredis `Cluster` / node-redis `createCluster`. */
  readonly rootNodes: NodeAddress[];
  /** `redis://127.0.0.1:PORT` of every node. */
  readonly urls: string[];
  /** Stops every node (in parallel) and removes their dirs. */
  stop(): Promise<void>;
  /** Same as `stop()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Runs redis-cli and resolves with its stdout; rejects with stdout+stderr on failure. */
function runCli(bin: string, args: string[], timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Starts one cluster node on two free ports: the client port and the cluster bus port. */
function startNode(bin: string, args: string[], timeout: number): Promise<LocalRedisServer> {
  return launchLocal({
    bin,
    label: 'cluster node',
    persistence: false,
    startTimeout: timeout,
    dirPrefix: 'hilok-cluster-',
    async configure(dir) {
      const port = await freePort();
      // An explicit bus port (Redis ≥ 7) instead of the implicit port+10000, which may be
      // taken or even above 65535 for ports from the ephemeral range.
      let busPort = await freePort();
      while (busPort === port) busPort = await freePort();
      return {
        port,
        argv: baseArgs(port, dir, false, [
          '--cluster-enabled', 'yes',
          '--cluster-config-file', 'nodes.conf',
          '--cluster-node-timeout', '2000',
          '--cluster-port', String(busPort),
          ...args,
        ]),
      };
    },
  });
}

/**
 * Starts a real Redis Cluster: `masters * (1 + replicas)` redis-server processes with
 * cluster mode on, joined by `redis-cli --cluster create`, and resolves once every node
 * reports `cluster_state:ok` (and every replica is in sync with its master).
 *
 * Needs redis-server ≥ 7 and redis-cli on PATH (no Docker fallback: a cluster behind Docker's
 * port mapping would announce addresses its clients cannot reach).
 *
 * @example
 * const cluster = await startCluster({ masters: 3 });
 * const client = new Cluster(cluster.rootNodes); // ioredis
 */
export async function startCluster(options: StartClusterOptions = {}): Promise<Cluster> {
  const { masters = 3, replicas = 0, args = [], timeout = 30_000 } = options;
  if (masters < 3) throw new Error(`a Redis Cluster needs at least 3 masters (redis-cli refuses fewer), got ${masters}`);
  const serverBin = requireRedisServer('startCluster()');
  const cliBin = requireRedisCli('startCluster()');
  const deadline = Date.now() + timeout;
  const left = () => Math.max(1_000, deadline - Date.now());

  const started = await Promise.allSettled(
    Array.from({ length: masters * (1 + replicas) }, () => startNode(serverBin, args, timeout)),
  );
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    // redis-cli makes the first `masters` addresses masters and spreads the rest as replicas.
    // It sleeps ~1 s for gossip before it checks the join, hence most of the start time.
    await runCli(
      cliBin,
      [
        '--cluster', 'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas', String(replicas),
        '--cluster-yes',
      ],
      left(),
    );

    // redis-cli returns once the configs agree, but each node flips to cluster_state:ok on
    // its own schedule (a fail→ok transition waits for gossip), so clients connecting right
    // now could still get CLUSTERDOWN.
    await Promise.all(
      nodes.map((node) =>
        waitFor(async () => parseInfo(await node.command('CLUSTER', 'INFO')).cluster_state === 'ok', {
          timeout: left(),
          interval: 50,
          message: `cluster_state:ok on node ${node.port}`,
        }),
      ),
    );
    const roles = await Promise.all(nodes.map(async (node) => parseInfo(await node.command('INFO', 'replication'))));
    const masterNodes = nodes.filter((_, i) => roles[i]?.role === 'master');
    const replicaNodes = nodes.filter((_, i) => roles[i]?.role === 'slave');
    // A replica still syncing would answer reads with stale data or -LOADING.
    await Promise.all(
      replicaNodes.map((node) =>
        waitFor(async () => parseInfo(await node.command('INFO', 'replication')).master_link_status === 'up', {
          timeout: left(),
          message: `replica ${node.port} to sync with its master`,
        }),
      ),
    );
    return {
      nodes: [...masterNodes, ...replicaNodes],
      masters: masterNodes,
      replicas: replicaNodes,
      rootNodes: nodes.map((node) => ({ host: node.host, port: node.port })),
      urls: nodes.map((node) => node.url),
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    const logs = nodes.map((node) => `--- node ${node.port} ---\n${node.logs().split('\n').slice(-20).join('\n')}`).join('\n');
    await stop();
    if (err instanceof Error) err.message += `\n${logs}`;
    throw err;
  }
}

/**
 * The cluster hash slot of `key` — the same number `CLUSTER KEYSLOT key` returns — with the
 * `cluster-key-slot` package both drivers use (core's `keySlot` uses it too).
 *
 * One shape is refused rather than answered wrong: a key whose first `{` is directly followed by
 * `}` and that has another `}` later (Redis hashes it whole, `cluster-key-slot` up to that later
 * `}`). Core's `keySlot` handles it; test keys never have it — ask the server (`CLUSTER KEYSLOT`).
 */
export function keySlot(key: string | Buffer): number {
  const bytes = Buffer.isBuffer(key) ? key : Buffer.from(key, 'utf8');
  const open = bytes.indexOf(0x7b); // '{'
  if (open !== -1 && bytes[open + 1] === 0x7d && bytes.indexOf(0x7d, open + 2) !== -1) {
    throw new RangeError(`keySlot: "${bytes.toString('utf8')}" ("{}" and a later "}") is hashed differently by cluster-key-slot; ask the server (CLUSTER KEYSLOT)`);
  }
  return clusterKeySlot(bytes);
}
