/**
 * The published artifacts, as a user gets them: `pnpm pack` every package, install the tarballs
 * into a scratch project with npm, and use a lock through both ESM `import` and CJS `require`,
 * with both drivers, against a real redis-server. Needs the packages built (`pnpm test` builds
 * first) and the npm registry for the drivers.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@hilok/testing';

const root = resolve(import.meta.dirname, '../..');
const packages = ['core', 'ioredis', 'node-redis', 'redlock', 'cli'];
let scratch: string;
let server: RedisServer;

beforeAll(async () => {
  server = await startRedis();
  scratch = mkdtempSync(join(tmpdir(), 'hilok-pack-'));
  for (const p of packages) {
    execFileSync('pnpm', ['pack', '--pack-destination', scratch], { cwd: join(root, 'packages', p), stdio: 'ignore' });
  }
  const tarballs = readdirSync(scratch).filter((f) => f.endsWith('.tgz'));
  const dependencies: Record<string, string> = { ioredis: '^5.9.2', redis: '^5.9.0' };
  for (const t of tarballs) dependencies[`@hilok/${t.replace(/^hilok-/, '').replace(/-\d+\.\d+\.\d+.*\.tgz$/, '')}`] = `file:./${t}`;
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, dependencies }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: scratch, stdio: 'ignore' });
}, 240_000);

afterAll(async () => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  await server?.stop();
});

const script = (driver: string) => `
  const mutex = new hilok.Mutex(process.env.URL);
  const lock = await mutex.acquire('pack-${driver}');
  const busy = await mutex.tryAcquire('pack-${driver}');
  await lock.release();
  await mutex.close();
  console.log(JSON.stringify({ fence: lock.fence > 0, busy: busy === null, busyError: typeof hilok.LockBusyError }));
`;

for (const driver of ['ioredis', 'node-redis']) {
  it(`${driver}: ESM import of the packed package works`, () => {
    const code = `import * as hilok from '@hilok/${driver}'; ${script(driver)}`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: scratch, env: { ...process.env, URL: server.url } });
    expect(JSON.parse(String(out))).toEqual({ fence: true, busy: true, busyError: 'function' });
  });

  it(`${driver}: CJS require of the packed package works`, () => {
    const code = `const hilok = require('@hilok/${driver}'); (async () => { ${script(driver)} })().catch((e) => { console.error(e); process.exit(1); });`;
    const out = execFileSync(process.execPath, ['-e', code], { cwd: scratch, env: { ...process.env, URL: server.url } });
    expect(JSON.parse(String(out))).toEqual({ fence: true, busy: true, busyError: 'function' });
  });
}

it('@hilok/redlock loads through import and require', () => {
  const esm = `import { Redlock } from '@hilok/redlock'; console.log(typeof Redlock);`;
  const cjs = `console.log(typeof require('@hilok/redlock').Redlock);`;
  expect(String(execFileSync(process.execPath, ['--input-type=module', '-e', esm], { cwd: scratch })).trim()).toBe('function');
  expect(String(execFileSync(process.execPath, ['-e', cjs], { cwd: scratch })).trim()).toBe('function');
});

it('@hilok/cli installs its bin and inspects a live lock', async () => {
  const bin = join(scratch, 'node_modules', '.bin', 'hilok');
  expect(String(execFileSync(bin, ['--help'], { cwd: scratch })).toLowerCase()).toContain('inspect');
  const out = execFileSync(bin, ['inspect', '--url', server.url, '--json'], { cwd: scratch });
  expect(JSON.parse(String(out))).toHaveProperty('holds');
});
