/**
 * The release flow: changesets are valid, and `changeset version` on a copy of the repository
 * bumps the whole fixed package family to one version and writes a CHANGELOG for each.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const changeset = join(root, 'node_modules', '.bin', 'changeset');
const published = ['core', 'ioredis', 'node-redis', 'redlock', 'cli'];

it('changeset status accepts the pending changesets', () => {
  execFileSync(changeset, ['status'], { cwd: root, stdio: 'pipe' });
});

it('changeset version bumps the fixed family together and writes changelogs', () => {
  const copy = mkdtempSync(join(tmpdir(), 'hilok-release-'));
  try {
    for (const entry of ['package.json', 'pnpm-workspace.yaml', '.changeset']) cpSync(join(root, entry), join(copy, entry), { recursive: true });
    for (const dir of ['packages', 'examples']) {
      cpSync(join(root, dir), join(copy, dir), { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes(`${'/'}dist`) });
    }
    execFileSync('git', ['init', '-q'], { cwd: copy });
    execFileSync(changeset, ['version'], { cwd: copy, stdio: 'pipe' });
    const versions = published.map((p) => JSON.parse(readFileSync(join(copy, 'packages', p, 'package.json'), 'utf8')).version as string);
    expect(new Set(versions).size).toBe(1);
    expect(versions[0]).not.toBe(JSON.parse(readFileSync(join(root, 'packages/core/package.json'), 'utf8')).version);
    for (const p of published) expect(existsSync(join(copy, 'packages', p, 'CHANGELOG.md')), p).toBe(true);
    expect(readFileSync(join(copy, 'packages/core/CHANGELOG.md'), 'utf8')).toContain('HiLok');
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}, 60_000);
