import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RedisReplyError,
  delay,
  dockerAvailable,
  encodeCommand,
  freePort,
  keySlot,
  parseInfo,
  sendCommand,
  sendCommandTo,
  startCluster,
  startProxy,
  startRedis,
  startRedisInstances,
  startSentinelGroup,
  useRedis,
  waitFor,
  type RedisServer,
  type TcpProxy,
} from '../src/index.js';
import { vitestRedis } from '../src/vitest.js';

/** Whether a process with this pid exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs a program, resolving with its stdout (rejecting with stderr on failure). */
function run(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(bin, args, { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
}

/** A raw connection that collects everything it receives, to check bytes and their order. */
async function rawConnection(port: number): Promise<{ socket: net.Socket; received: () => string; closed: Promise<string> }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const closed = new Promise<string>((resolve) => {
    let code = 'none';
    socket.on('error', (err: NodeJS.ErrnoException) => (code = err.code ?? err.message));
    socket.on('close', () => resolve(code));
  });
  return { socket, received: () => text, closed };
}

describe('startRedis', () => {
  it('starts a throwaway server, answers commands, and stops cleanly', async () => {
    const server = await startRedis();
    expect(server.kind).toBe('local');
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    const pid = server.pid ?? 0;
    const dir = server.dir ?? '';
    expect(alive(pid)).toBe(true);
    expect(existsSync(dir)).toBe(true);

    expect(await server.command('PING')).toBe('PONG');
    expect(await server.command('SET', 'a', 1)).toBe('OK');
    expect(await server.command('GET', 'a')).toBe('1');
    expect(await server.command('GET', 'missing')).toBeNull();
    expect(await server.command('INCR', 'n')).toBe(1);
    expect(await server.dbsize()).toBe(2);
    expect((await server.keys()).sort()).toEqual(['a', 'n']);
    // The defaults the suites rely on.
    expect(await server.command('CONFIG', 'GET', 'appendonly')).toEqual(['appendonly', 'no']);
    expect(await server.command('CONFIG', 'GET', 'save')).toEqual(['save', '']);
    expect(await server.command('DEBUG', 'SLEEP', 0)).toBe('OK');
    await server.flushall();
    expect(await server.dbsize()).toBe(0);

    await server.stop();
    expect(server.running).toBe(false);
    expect(alive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await expect(sendCommand(server.port, 'PING')).rejects.toThrow(/ECONNREFUSED/);
    await server.stop(); // idempotent
  });

  it('passes extra args and reports error replies as RedisReplyError', async () => {
    await using server = await startRedis({ args: ['--maxmemory', '10mb'] });
    expect(await server.command('CONFIG', 'GET', 'maxmemory')).toEqual(['maxmemory', String(10 * 1024 * 1024)]);
    const err = await server.command('NOSUCHCOMMAND').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisReplyError);
    expect((err as RedisReplyError).code).toBe('ERR');
    await server.command('SET', 's', 'x');
    await expect(server.command('INCR', 's')).rejects.toThrow(/not an integer/);
  });

  it('restart without persistence keeps the port and loses the data', async () => {
    await using server = await startRedis();
    const { port, pid } = server;
    await server.command('SET', 'k', 'v');
    await server.restart();
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(pid);
    expect(await server.dbsize()).toBe(0);
  });

  it('restart with persistence keeps the data, even after a SIGKILL crash or a stop()', async () => {
    const server = await startRedis({ persistence: true });
    const dir = server.dir ?? '';
    await server.command('SET', 'k', 'v');
    await server.restart({ signal: 'SIGKILL' });
    expect(await server.command('GET', 'k')).toBe('v');

    await server.command('SET', 'k2', 'v2');
    await server.kill();
    expect(server.running).toBe(false);
    await expect(server.command('PING')).rejects.toThrow();
    await server.restart();
    expect(await server.dbsize()).toBe(2);

    await server.stop(); // persistence: the dir is kept for a restart
    expect(existsSync(dir)).toBe(true);
    await server.restart();
    expect(await server.command('GET', 'k2')).toBe('v2');
    await server.stop({ keepDir: false });
    expect(existsSync(dir)).toBe(false);
  });

  it('pause() freezes the server and resume() lets queued commands through', async () => {
    await using server = await startRedis();
    await server.pause();
    await expect(sendCommandTo({ port: server.port, timeout: 300 }, 'PING')).rejects.toThrow(/did not answer/);
    const queued = sendCommandTo({ port: server.port, timeout: 5_000 }, 'PING');
    await delay(100);
    await server.resume();
    expect(await queued).toBe('PONG');
    // stop() also works on a paused server (SIGTERM alone would wait for SIGCONT).
    await server.pause();
    const pid = server.pid ?? 0;
    await server.stop();
    expect(alive(pid)).toBe(false);
  });

  it('startRedisInstances starts independent servers', async () => {
    const instances = await startRedisInstances(3);
    try {
      const ports = instances.servers.map((s) => s.port);
      expect(new Set(ports).size).toBe(3);
      expect(instances.urls).toEqual(ports.map((p) => `redis://127.0.0.1:${p}`));
      await instances.servers[0]?.command('SET', 'only-here', '1');
      expect(await instances.servers[1]?.dbsize()).toBe(0);
      expect(await instances.servers[0]?.dbsize()).toBe(1);
    } finally {
      await instances.stopAll();
    }
    for (const s of instances.servers) expect(s.running).toBe(false);
  });

  it('starts many servers at once on distinct ports', async () => {
    const servers = await Promise.all(Array.from({ length: 6 }, () => startRedis()));
    expect(new Set(servers.map((s) => s.port)).size).toBe(6);
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('restart() waits for its port if something else holds it briefly', async () => {
    await using server = await startRedis();
    await server.kill();
    // Our readiness probe may connect to the blocker: drop such connections, or close() would wait for them.
    const blocker = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(server.port, '127.0.0.1', resolve));
    const restarted = server.restart();
    await delay(400);
    await new Promise((resolve) => blocker.close(resolve));
    await restarted;
    expect(await server.command('PING')).toBe('PONG');
    expect(server.logs()).toMatch(/Address already in use/); // the first attempts failed on it
  });
});

describe('useRedis', () => {
  it('uses REDIS_URL (with auth and db) instead of starting a server, and refuses process control', async () => {
    await using real = await startRedis({ args: ['--requirepass', 'pw'] });
    const saved = process.env.REDIS_URL;
    process.env.REDIS_URL = `redis://:pw@127.0.0.1:${real.port}/2`;
    try {
      const server = await useRedis();
      expect(server.kind).toBe('external');
      expect(server.port).toBe(real.port);
      expect(real.url).toBe(`redis://:pw@127.0.0.1:${real.port}`);
      expect(await real.dbsize()).toBe(0); // the harness authenticates with --requirepass itself
      expect(server.pid).toBeUndefined();
      await server.command('SET', 'x', '1');
      expect(await server.dbsize()).toBe(1);
      expect(await sendCommandTo({ port: real.port, password: 'pw' }, 'DBSIZE')).toBe(0); // db 0
      await expect(server.kill()).rejects.toThrow(/not available with REDIS_URL/);
      await expect(server.pause()).rejects.toThrow(/not available with REDIS_URL/);
      await expect(server.restart()).rejects.toThrow(/not available with REDIS_URL/);
      await server.stop();
      expect(await sendCommandTo({ port: real.port, password: 'pw', db: 2 }, 'GET', 'x')).toBe('1'); // untouched
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = saved;
    }
  });

  it('starts a local server without REDIS_URL', async () => {
    const saved = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
    try {
      await using server = await useRedis();
      expect(server.kind).toBe('local');
    } finally {
      if (saved !== undefined) process.env.REDIS_URL = saved;
    }
  });

  it('explains how to install redis-server when neither it nor Docker is available', async () => {
    if (await dockerAvailable()) return; // the fallback would kick in instead
    const saved = { PATH: process.env.PATH, REDIS_SERVER_BIN: process.env.REDIS_SERVER_BIN };
    process.env.PATH = '/nonexistent';
    delete process.env.REDIS_SERVER_BIN;
    try {
      await expect(startRedis()).rejects.toThrow(/apt-get install redis-server redis-tools/);
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.REDIS_SERVER_BIN !== undefined) process.env.REDIS_SERVER_BIN = saved.REDIS_SERVER_BIN;
    }
  });
});

describe('vitestRedis', () => {
  const redis = vitestRedis();
  it('is started by beforeAll and usable in tests', async () => {
    expect(redis.port).toBeGreaterThan(0);
    expect(await redis.command('PING')).toBe('PONG');
  });
});

describe('orphan protection', () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const tsx = path.resolve(here, '../../../node_modules/.bin/tsx');
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hilok-orphan-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Runs a script that starts a server, prints its pid, then dies the way `end` says. */
  async function pidLeftBy(end: 'throw' | 'SIGTERM'): Promise<number> {
    const script = path.join(dir, `${end}.mts`);
    const index = path.resolve(here, '../src/index.ts');
    await writeFile(
      script,
      `import { startRedis } from ${JSON.stringify(index)};
       const s = await startRedis();
       console.log('PID', s.pid);
       ${end === 'throw' ? "setTimeout(() => { throw new Error('crash'); }, 10);" : 'setInterval(() => {}, 1000);'}`,
    );
    const child = spawn(tsx, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const pid = await waitFor(() => Number(/PID (\d+)/.exec(out)?.[1]), { timeout: 15_000, message: 'the child to start redis' });
    expect(alive(pid)).toBe(true);
    // tsx runs the script in a child of its own and relays SIGTERM to it.
    if (end === 'SIGTERM') child.kill('SIGTERM');
    await exited;
    return pid;
  }

  it('kills servers when the test process crashes or is terminated', async () => {
    const [crashed, terminated] = await Promise.all([pidLeftBy('throw'), pidLeftBy('SIGTERM')]);
    await waitFor(() => !alive(crashed) && !alive(terminated), { timeout: 5_000, message: 'orphans to die' });
  });
});

describe('startCluster', () => {
  it('creates a 3-master cluster where every master owns slots and redis-cli -c can write to each', async () => {
    const cluster = await startCluster({ masters: 3 });
    try {
      expect(cluster.nodes).toHaveLength(3);
      expect(cluster.masters).toHaveLength(3);
      const byPort = (a: number, b: number) => a - b;
      expect(cluster.rootNodes.map((r) => r.port).sort(byPort)).toEqual(cluster.nodes.map((n) => n.port).sort(byPort));
      expect(cluster.rootNodes.every((r) => r.host === '127.0.0.1')).toBe(true);
      expect(cluster.urls).toHaveLength(3);
      for (const node of cluster.nodes) expect(parseInfo(await node.command('CLUSTER', 'INFO')).cluster_state).toBe('ok');

      // CLUSTER SLOTS: [[start, end, [host, port, id], ...replicas], ...]
      const slots = (await cluster.nodes[0]?.command('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
      const ranges = slots.map(([start, end, [, port]]) => ({ start, end, port }));
      expect(new Set(ranges.map((r) => r.port))).toEqual(new Set(cluster.masters.map((m) => m.port)));

      const seed = cluster.rootNodes[0]?.port ?? 0;
      for (const range of ranges) {
        let i = 0;
        while (keySlot(`key-${i}`) < range.start || keySlot(`key-${i}`) > range.end) i++;
        const key = `key-${i}`;
        const owner = cluster.nodes.find((n) => n.port === range.port);
        expect(await owner?.command('CLUSTER', 'KEYSLOT', key)).toBe(keySlot(key));
        // Through whichever node: -c follows the MOVED redirection to the owner.
        expect((await run('redis-cli', ['-c', '-p', String(seed), 'SET', key, `v${i}`])).trim()).toBe('OK');
        expect(await owner?.command('GET', key)).toBe(`v${i}`);
      }
      expect(keySlot('{user1}.a')).toBe(keySlot('user1'));
      expect(keySlot('a{}b')).toBe(Number(await cluster.nodes[0]?.command('CLUSTER', 'KEYSLOT', 'a{}b')));
    } finally {
      await cluster.stop();
    }
    for (const node of cluster.nodes) expect(node.running).toBe(false);
  });
  it('with replicas: every master gets its own in-sync replica', async () => {
    const cluster = await startCluster({ masters: 3, replicas: 1 });
    try {
      expect(cluster.nodes).toHaveLength(6);
      expect(cluster.masters).toHaveLength(3);
      expect(cluster.replicas).toHaveLength(3);
      const mastersOfReplicas = new Set<number>();
      for (const replica of cluster.replicas) {
        const info = parseInfo(await replica.command('INFO', 'replication'));
        expect(info.master_link_status).toBe('up');
        mastersOfReplicas.add(Number(info.master_port));
      }
      expect(mastersOfReplicas).toEqual(new Set(cluster.masters.map((m) => m.port)));
    } finally {
      await cluster.stop();
    }
  });
});

describe('startSentinelGroup', () => {
  it('monitors a master and fails over to the replica', async () => {
    const group = await startSentinelGroup();
    try {
      const { master, replica } = group;
      expect(group.masterName).toBe('hilok');
      expect(group.sentinels).toHaveLength(3);
      expect(parseInfo(await master.command('INFO', 'replication')).role).toBe('master');
      expect(parseInfo(await replica.command('INFO', 'replication')).role).toBe('slave');
      for (const s of group.sentinels) {
        expect(await sendCommand(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'hilok')).toEqual(['127.0.0.1', String(master.port)]);
      }
      await master.command('SET', 'before', '1');
      await waitFor(async () => (await replica.command('GET', 'before')) === '1', { message: 'replication' });

      await group.failover();
      expect(group.master).toBe(replica);
      expect(group.replica).toBe(master);
      for (const s of group.sentinels) {
        expect(await sendCommand(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'hilok')).toEqual(['127.0.0.1', String(replica.port)]);
      }
      expect(parseInfo(await replica.command('INFO', 'replication')).role).toBe('master');
      expect(await replica.command('GET', 'before')).toBe('1');
      await replica.command('SET', 'after', '2');
      await waitFor(async () => (await master.command('GET', 'after')) === '2', { message: 'replication to the old master' });
      await expect(master.command('SET', 'x', '1')).rejects.toThrow(/READONLY/);
    } finally {
      await group.stop();
    }
  });
});

describe('startProxy', () => {
  let server: RedisServer;
  let proxy: TcpProxy;
  beforeAll(async () => {
    server = await startRedis();
    proxy = await startProxy({ targetPort: server.port });
  });
  afterAll(async () => {
    await proxy?.stop();
    await server?.stop();
  });

  it('forwards traffic', async () => {
    expect(proxy.url).toBe(`redis://127.0.0.1:${proxy.port}`);
    expect(await sendCommand(proxy.port, 'SET', 'p', 'q')).toBe('OK');
    expect(await server.command('GET', 'p')).toBe('q');
  });

  it('adds latency in both directions and keeps bytes in order', async () => {
    proxy.setLatency(150);
    try {
      const started = performance.now();
      expect(await sendCommand(proxy.port, 'PING')).toBe('PONG');
      // Two one-way delays of 150 ms; generous lower bound only, never an upper one.
      expect(performance.now() - started).toBeGreaterThanOrEqual(250);

      // Chunks written one by one while the latency drops must still arrive in order.
      const conn = await rawConnection(proxy.port);
      const n = 40;
      for (let i = 0; i < n; i++) {
        if (i === n / 2) proxy.setLatency(0);
        conn.socket.write(encodeCommand(['ECHO', `m${i}`]));
        await delay(2);
      }
      const expected = Array.from({ length: n }, (_, i) => `$${`m${i}`.length}\r\nm${i}\r\n`).join('');
      await waitFor(() => conn.received().length >= expected.length, { timeout: 5_000, message: 'all echoes' });
      expect(conn.received()).toBe(expected);
      conn.socket.destroy();
    } finally {
      proxy.setLatency(0);
    }
  });

  it('blackhole holds connections open but drops every byte', async () => {
    const conn = await rawConnection(proxy.port);
    proxy.blackhole(true);
    try {
      await expect(sendCommandTo({ port: proxy.port, timeout: 300 }, 'PING')).rejects.toThrow(/did not answer/);
      conn.socket.write(encodeCommand(['PING']));
      await delay(200);
      expect(conn.received()).toBe('');
      expect(conn.socket.destroyed).toBe(false);
    } finally {
      proxy.blackhole(false);
    }
    // Healed: the held connection works again (the dropped PING is gone for good).
    conn.socket.write(encodeCommand(['ECHO', 'back']));
    await waitFor(() => conn.received() === '$4\r\nback\r\n', { timeout: 2_000, message: 'the echo' });
    conn.socket.destroy();
  });

  it('oneWay drops one direction only', async () => {
    proxy.oneWay('toClient');
    try {
      await expect(sendCommandTo({ port: proxy.port, timeout: 300 }, 'SET', 'ow1', 'x')).rejects.toThrow(/did not answer/);
      expect(await server.command('GET', 'ow1')).toBe('x'); // the request got through
      proxy.oneWay('toServer');
      await expect(sendCommandTo({ port: proxy.port, timeout: 300 }, 'SET', 'ow2', 'x')).rejects.toThrow(/did not answer/);
      expect(await server.command('GET', 'ow2')).toBeNull();
    } finally {
      proxy.oneWay(null);
    }
    expect(await sendCommand(proxy.port, 'PING')).toBe('PONG');
  });

  /** Whether the server has a client connection with this CLIENT SETNAME. */
  const hasClient = async (name: string) => ((await server.command('CLIENT', 'LIST')) as string).includes(` name=${name} `);

  /** A raw connection through the proxy, named on the server so a test can find its server side. */
  async function namedConnection(name: string) {
    const conn = await rawConnection(proxy.port);
    conn.socket.write(encodeCommand(['CLIENT', 'SETNAME', name]));
    await waitFor(() => conn.received() === '+OK\r\n', { timeout: 2_000, message: 'CLIENT SETNAME' });
    return conn;
  }

  it('passes on a close that happened during a blackhole once it heals', async () => {
    const conn = await namedConnection('closed-in-partition');
    proxy.blackhole(true);
    conn.socket.end();
    await delay(200);
    expect(await hasClient('closed-in-partition')).toBe(true); // the server did not see the FIN
    proxy.blackhole(false);
    await waitFor(async () => !(await hasClient('closed-in-partition')), { timeout: 5_000, message: 'the held FIN' });
  });

  it('reset() aborts current connections with RST on both sides', async () => {
    const conn = await namedConnection('victim');
    expect(proxy.connections).toBeGreaterThanOrEqual(1);
    proxy.reset();
    expect(await conn.closed).toBe('ECONNRESET');
    await waitFor(async () => !(await hasClient('victim')), { timeout: 5_000, message: 'the server side to close' });
    expect(await sendCommand(proxy.port, 'PING')).toBe('PONG'); // new connections still work
  });
});

describe('utilities', () => {
  it('freePort returns a bindable port', async () => {
    const port = await freePort();
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => srv.close(resolve));
  });

  it('waitFor resolves with the truthy value and times out with the last error', async () => {
    let n = 0;
    expect(await waitFor(() => (++n >= 3 ? n : 0), { interval: 1 })).toBe(3);
    await expect(
      waitFor(
        () => {
          throw new Error('still broken');
        },
        { timeout: 50, interval: 10, message: 'the thing' },
      ),
    ).rejects.toThrow(/waiting for the thing; last error: still broken/);
  });
});
