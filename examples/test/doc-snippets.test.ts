/**
 * Doc tests: every fenced code block of README.md, docs/*.md and packages/*\/README.md either
 * runs, as written, as a program of its own against real redis-servers — or says why it does
 * not.
 *
 * - A `ts` / `typescript` / `js` / `javascript` block is a complete program. It is written to
 *   `examples/.doc-snippets/` and run with tsx in a child process (`@hilok/*` resolve to their
 *   TypeScript sources, as in the other tests); it must exit with code 0 by itself within
 *   {@link BLOCK_DEADLINE_MS} — a block that leaves a connection or a timer open hangs and fails.
 *   Afterwards its servers must hold no key: a block releases what it takes.
 * - A TypeScript block that is not a program (a signature, a fragment) is preceded by
 *   `<!-- no-run: why -->`; the reason is required.
 * - Shell, output and data blocks say so by their language (`bash`, `text`, `json`, …); a block
 *   without a language, or with one this file does not know, fails — so no program hides as text.
 *
 * The docs use the addresses of the repo's docker-compose.yml; before running a block the harness
 * starts throwaway servers for the addresses it names and substitutes their ports:
 * `redis://localhost:6379` (one server), `redis://localhost:6381`…`6385` (independent Redlock
 * instances), sentinel port `26379` (a master, a replica and three sentinels; master name
 * `mymaster`). REDIS_URL in the child's environment names the single server too.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedis, startRedisInstances, startSentinelGroup, type RedisServer } from '@hilok/testing';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outDir = path.join(root, 'examples/.doc-snippets');
/** A block gets this long to exit by itself (it typically takes under a second, plus tsx's start). */
const BLOCK_DEADLINE_MS = 15_000;
/** Blocks run in parallel, each in its own process with its own servers. */
const PARALLEL = 3;

const RUN_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs', 'mts']);
/** Languages that are not programs: shell commands, program output, data. */
const TEXT_LANGS = new Set(['bash', 'sh', 'shell', 'console', 'text', 'json', 'jsonc', 'yaml', 'lua', 'diff']);
const NO_RUN = /^<!--\s*no-run:\s*(\S.*?)\s*-->$/;

export interface Block {
  file: string; // relative to the repo root
  line: number; // of the opening fence, 1-based
  lang: string;
  code: string;
  heading: string;
  noRun?: string; // the reason, when marked
}

/** Every fenced block of a Markdown text, with the heading it sits under and its no-run mark. */
export function extractBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let heading = '';
  let lastNonBlank = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const open = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)(.*)$/.exec(line);
    if (!open) {
      const h = /^#{1,6}\s+(.*)$/.exec(line);
      if (h) heading = h[1]!.trim();
      if (line.trim() !== '') lastNonBlank = line.trim();
      continue;
    }
    const fence = open[1]!;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`).test(lines[j]!)) {
      body.push(lines[j]!);
      j++;
    }
    const mark = NO_RUN.exec(lastNonBlank);
    blocks.push({
      file,
      line: i + 1,
      lang: open[2]!.toLowerCase(),
      code: body.join('\n') + '\n',
      heading,
      ...(mark ? { noRun: mark[1]! } : {}),
    });
    i = j;
    lastNonBlank = '';
  }
  return blocks;
}

const docFiles = [
  'README.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  ...readdirSync(path.join(root, 'packages'))
    .map((p) => `packages/${p}/README.md`)
    .filter((f) => existsSync(path.join(root, f))),
].sort();

const blocks = docFiles.flatMap((f) => extractBlocks(f, readFileSync(path.join(root, f), 'utf8')));
const runnable = blocks.filter((b) => RUN_LANGS.has(b.lang) && !b.noRun);

/** The servers a block names, started for it; `rewrite` points the block's addresses at them. */
interface Servers {
  env: Record<string, string>;
  rewrite(code: string): string;
  all: RedisServer[];
  stop(): Promise<void>;
}

async function serversFor(code: string): Promise<Servers> {
  const all: RedisServer[] = [];
  const stops: (() => Promise<void>)[] = [];
  const env: Record<string, string> = {};
  const swaps: [RegExp, string][] = [];
  try {
    if (/redis:\/\/localhost:6379\b/.test(code)) {
      const server = await startRedis();
      all.push(server);
      stops.push(() => server.stop());
      env.REDIS_URL = server.url;
      swaps.push([/redis:\/\/localhost:6379\b/g, server.url]);
    }
    const instancePorts = [...new Set([...code.matchAll(/redis:\/\/localhost:(638[1-5])\b/g)].map((m) => m[1]!))];
    if (instancePorts.length > 0) {
      const instances = await startRedisInstances(5);
      all.push(...instances.servers);
      stops.push(() => instances.stopAll());
      env.REDLOCK_URLS = instances.urls.join(',');
      for (let n = 0; n < 5; n++) swaps.push([new RegExp(`redis://localhost:638${n + 1}\\b`, 'g'), instances.urls[n]!]);
    }
    if (/\b26379\b/.test(code)) {
      const group = await startSentinelGroup({ masterName: 'mymaster' });
      all.push(group.master);
      stops.push(() => group.stop());
      swaps.push([/\b26379\b/g, String(group.sentinels[0]!.port)]);
    }
  } catch (err) {
    await Promise.all(stops.map((s) => s()));
    throw err;
  }
  return {
    env,
    all,
    rewrite: (c) => swaps.reduce((acc, [re, to]) => acc.replace(re, to), c),
    stop: async () => {
      await Promise.all(stops.map((s) => s()));
    },
  };
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  ms: number;
  output: string;
}

function runFile(file: string, env: Record<string, string>, deadline = BLOCK_DEADLINE_MS): Promise<RunResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: {
        ...process.env,
        ...env,
        TSX_TSCONFIG_PATH: path.join(root, 'examples/test/tsconfig.doc-snippets.json'),
        NODE_NO_WARNINGS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, deadline);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, ms: Math.round(performance.now() - started), output });
    });
  });
}

/** At most {@link PARALLEL} blocks at a time. */
let running = 0;
const queue: (() => void)[] = [];
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= PARALLEL) await new Promise<void>((r) => queue.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    queue.shift()?.();
  }
}

const label = (b: Block) => `${b.file}:${b.line} (${b.heading || 'top'})`;
const baseName = (b: Block) => `${b.file.replace(/[/.]/g, '_')}_${b.line}`;
const ext = (b: Block) => (b.lang === 'ts' || b.lang === 'typescript' || b.lang === 'mts' ? 'mts' : 'mjs');

// The blocks as written (for the type check), before any test runs.
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
for (const b of runnable) writeFileSync(path.join(outDir, `${baseName(b)}.${ext(b)}`), b.code);
afterAll(() => {
  if (!process.env.DOC_SNIPPETS_VERBOSE) rmSync(outDir, { recursive: true, force: true });
});

/** `tsc --noEmit` over the TypeScript blocks; only their own errors count (the packages have their own typecheck). */
function typecheck(): Promise<string[]> {
  const files = runnable.filter((b) => ext(b) === 'mts').map((b) => `${baseName(b)}.mts`);
  writeFileSync(
    path.join(outDir, 'tsconfig.json'),
    JSON.stringify({ extends: '../test/tsconfig.doc-snippets.json', compilerOptions: { noEmit: true }, files }),
  );
  return new Promise((resolve) => {
    const tsc = spawn(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(outDir, 'tsconfig.json')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    tsc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    tsc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    tsc.on('close', () => {
      const mine = out.split('\n').filter((l) => l.startsWith('examples/.doc-snippets/'));
      // Map "README_md_82.mts(3,5)" back to "README.md:84" (the fence line + the line in the block).
      resolve(
        mine.map((l) =>
          l.replace(/^examples\/\.doc-snippets\/(\S+?)\.mts\((\d+),(\d+)\)/, (_, name: string, row: string) => {
            const b = runnable.find((x) => baseName(x) === name)!;
            return `${b.file}:${b.line + Number(row)}`;
          }),
        ),
      );
    });
  });
}

describe('doc blocks', () => {
  it('every block is a program, text of a known language, or marked no-run with a reason', () => {
    const unclear = blocks
      .filter((b) => !RUN_LANGS.has(b.lang) && !TEXT_LANGS.has(b.lang) && !b.noRun)
      .map((b) => `${label(b)}: language "${b.lang}"`);
    expect(unclear).toEqual([]);
    expect(runnable.length).toBeGreaterThan(0);
  });

  it('the harness: a no-run mark needs a reason, an unmarked fragment runs, a hanging program fails', async () => {
    const md = [
      '# T',
      '<!-- no-run: a signature -->',
      '```ts',
      'declare function f(): void;',
      '```',
      '<!-- no-run -->',
      '```ts',
      'x;',
      '```',
      '```',
      'plain',
      '```',
    ].join('\n');
    const [marked, unmarked, plain] = extractBlocks('t.md', md);
    expect(marked).toMatchObject({ line: 3, lang: 'ts', noRun: 'a signature', heading: 'T' });
    expect(unmarked!.noRun).toBeUndefined();
    expect(plain!.lang).toBe('');
    const file = path.join(outDir, 'hangs.mts');
    writeFileSync(file, 'setInterval(() => {}, 1000);\n');
    const result = await runFile(file, {}, 1_500);
    expect(result.timedOut).toBe(true);
  });

  describe.concurrent('runs as written', () => {
    it('type-checks (tsc --noEmit, strict)', async () => {
      expect(await typecheck()).toEqual([]);
    });

    it.each(runnable.map((b) => [label(b), b] as const))('%s', async (_, block) =>
      slot(async () => {
        const servers = await serversFor(block.code);
        try {
          const file = path.join(outDir, `${baseName(block)}.run.${ext(block)}`);
          writeFileSync(file, servers.rewrite(block.code));
          const result = await runFile(file, servers.env);
          const what = result.timedOut
            ? `did not exit within ${BLOCK_DEADLINE_MS} ms (an open connection or timer?)`
            : `exited with ${result.code ?? result.signal} after ${result.ms} ms`;
          if (process.env.DOC_SNIPPETS_VERBOSE) console.log(`${label(block)}: ${result.ms} ms\n${result.output}`);
          expect(result.code === 0 && !result.timedOut, `${label(block)} ${what}:\n${result.output.slice(-3000)}`).toBe(true);
          for (const server of servers.all) {
            expect(await server.command('KEYS', '*'), `${label(block)} left keys on ${server.url}`).toEqual([]);
          }
        } finally {
          await servers.stop();
        }
      }),
    );
  });
});
