import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** The hint every "no Redis available" error ends with. */
export const INSTALL_HINT =
  'Install redis-server and redis-cli (Debian/Ubuntu: `apt-get install redis-server redis-tools`; ' +
  'macOS: `brew install redis`), or start a Docker engine (redis:7 is then run through testcontainers), ' +
  'or set REDIS_URL to use an existing server for useRedis().';

/** Finds an executable on PATH, like `which`; undefined if absent. */
function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/**
 * The redis-server executable: `$REDIS_SERVER_BIN` if set (to test against another build),
 * else the first `redis-server` on PATH, else undefined.
 */
export function redisServerBin(): string | undefined {
  return process.env.REDIS_SERVER_BIN || which('redis-server');
}

/** The redis-cli executable: `$REDIS_CLI_BIN` if set, else the first `redis-cli` on PATH. */
export function redisCliBin(): string | undefined {
  return process.env.REDIS_CLI_BIN || which('redis-cli');
}

/** Like {@link redisServerBin} but throws an error explaining how to install it. */
export function requireRedisServer(feature = 'this harness'): string {
  const bin = redisServerBin();
  if (!bin) throw new Error(`redis-server was not found on PATH; ${feature} needs it. ${INSTALL_HINT}`);
  return bin;
}

/** Like {@link redisCliBin} but throws an error explaining how to install it. */
export function requireRedisCli(feature = 'this harness'): string {
  const bin = redisCliBin();
  if (!bin) throw new Error(`redis-cli was not found on PATH; ${feature} needs it. ${INSTALL_HINT}`);
  return bin;
}

let dockerAnswer: Promise<boolean> | undefined;

/**
 * Whether a Docker engine answers `docker info` (memoised: it never changes during a run, and
 * the CLI takes a while to fail when the socket is missing).
 */
export function dockerAvailable(): Promise<boolean> {
  dockerAnswer ??= new Promise((resolve) => {
    execFile('docker', ['info'], { timeout: 10_000 }, (err) => resolve(!err));
  });
  return dockerAnswer;
}
