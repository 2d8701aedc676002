import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseInfo, type RedisServer } from '@hilok/testing';

/** The machine and software versions a run happened on. */
export interface MachineInfo {
  os: string;
  cpus: string;
  cpuCount: number;
  memoryGb: number;
  /** os.loadavg() (1, 5, 15 min) when the run started: how busy the shared machine was. */
  loadAverage: number[];
  node: string;
  redis: string;
  packages: Record<string, string>;
}

const require = createRequire(import.meta.url);

function versionOf(name: string): string {
  try {
    // Walk up from the entry point to the package's own package.json.
    let dir = path.dirname(require.resolve(name));
    for (let i = 0; i < 6; i++) {
      try {
        const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name && pkg.version) return pkg.version;
      } catch {
        /* keep walking */
      }
      dir = path.dirname(dir);
    }
  } catch {
    /* not resolvable */
  }
  return 'unknown';
}

/** Collects {@link MachineInfo} (redis version from `server`'s INFO). */
export async function machineInfo(server: RedisServer): Promise<MachineInfo> {
  const info = parseInfo(await server.command('INFO', 'server'));
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()} (${os.platform()}/${os.arch()})`,
    cpus: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    redis: info.redis_version ?? 'unknown',
    packages: Object.fromEntries(['ioredis', 'redis', 'redlock', '@sesamecare-oss/redlock', 'redis-semaphore', 'redlock-universal', '@hilok/ioredis', '@hilok/node-redis', '@hilok/redlock'].map((n) => [n, versionOf(n)])),
  };
}
