import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Driver, HostPort, Target } from './connect.js';
import { UsageError } from './errors.js';
import { KEY_KINDS, type KeyKind } from './keys.js';

/** Where a command reads and writes: injectable, so tests can run commands in-process. */
export interface CliIO {
  /** Normal output (tables, JSON, the live tree). */
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  /** Messages and prompts. */
  stderr: NodeJS.WritableStream;
  /** Answers to prompts; `q` / Ctrl-C for `watch`. */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  /** Environment (`REDIS_URL`, `NO_COLOR`). */
  env: Record<string, string | undefined>;
}

/** Options every command accepts. */
export interface GlobalOptions {
  /** Redis URL (`--url`, else `REDIS_URL`, else `redis://127.0.0.1:6379`). */
  url: string;
  /** Whether the URL came from `--url` / `REDIS_URL` rather than the default. */
  urlGiven: boolean;
  /** Every URL given (`--url` more than once, or `--redlock url1,url2,…`): several are a Redlock set. */
  urls: string[];
  /** `--sentinel host:port` (one or more) with `--name`: reach that master through the sentinels. */
  sentinel: { sentinels: HostPort[]; name: string } | undefined;
  /** What to connect to: the URL, or the master through the sentinels (with the URL's password and db). */
  target: Target;
  /** Driver (`--driver`, default `ioredis`). */
  driver: Driver;
  /** Key prefix (`--prefix`, default `hilok:`). */
  prefix: string;
  /** Tree path separator (`--separator`, default `/`). */
  separator: string;
  /** Machine-readable output (`--json`). */
  json: boolean;
  /** Show the command's help (`--help`, `-h`). */
  help: boolean;
}

/** Default Redis URL. */
export const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** parseArgs definitions of the {@link GlobalOptions}. */
export const GLOBAL_OPTIONS = {
  url: { type: 'string', multiple: true },
  redlock: { type: 'string' },
  sentinel: { type: 'string', multiple: true },
  name: { type: 'string' },
  driver: { type: 'string' },
  prefix: { type: 'string' },
  separator: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** A parsed command line: the global options, the command's own values and positionals. */
export interface Parsed<V> {
  global: GlobalOptions;
  values: V;
  positionals: string[];
}

/**
 * Parse `argv` (after the command name) with the global options plus `options`.
 * @throws {@link UsageError} for an unknown option, a missing value or a bad global value
 */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
  env: CliIO['env'],
): Parsed<Record<string, string | boolean | undefined>> {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  const v = parsed.values;
  const driver = (v.driver as string | undefined) ?? 'ioredis';
  if (driver !== 'ioredis' && driver !== 'node-redis') throw new UsageError(`--driver must be "ioredis" or "node-redis", not "${driver}"`);
  const separator = (v.separator as string | undefined) ?? '/';
  if (separator === '') throw new UsageError('--separator must not be empty');
  const given = [...((v.url as string[] | undefined) ?? []), ...splitList(v.redlock as string | undefined, '--redlock')];
  if (v.redlock !== undefined && given.length < 2) throw new UsageError('--redlock needs at least two URLs, comma-separated (or --url given several times)');
  const url = given[0] ?? env.REDIS_URL;
  const sentinel = parseSentinel(v.sentinel as string[] | undefined, v.name as string | undefined);
  if (sentinel && given.length > 1) throw new UsageError('--sentinel reaches one master: give at most one --url (for its password and database)');
  const global: GlobalOptions = {
    url: url || DEFAULT_URL,
    urlGiven: Boolean(url),
    urls: given.length ? given : [url || DEFAULT_URL],
    sentinel,
    target: { url: url || DEFAULT_URL, sentinel },
    driver,
    prefix: (v.prefix as string | undefined) ?? 'hilok:',
    separator,
    json: v.json === true,
    help: v.help === true,
  };
  return { global, values: v, positionals: parsed.positionals };
}

function splitList(value: string | undefined, option: string): string[] {
  if (value === undefined) return [];
  const items = value.split(',').map((x) => x.trim());
  if (items.some((x) => x === '')) throw new UsageError(`${option} has an empty item: "${value}"`);
  return items;
}

/** Parse `host:port` (`[v6]:port`; port 26379 when left out). */
export function parseHostPort(value: string, defaultPort = 26379): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(value.trim());
  const port = Number(m?.[3] ?? defaultPort);
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--sentinel must be host:port, not "${value}"`);
  return { host: (m[1] ?? m[2]) as string, port };
}

function parseSentinel(values: string[] | undefined, name: string | undefined): GlobalOptions['sentinel'] {
  if (values === undefined) {
    if (name !== undefined) throw new UsageError('--name is the master name for --sentinel; give --sentinel host:port too');
    return undefined;
  }
  if (name === undefined || name === '') throw new UsageError('--sentinel needs --name <master name> (the name the sentinels monitor it by)');
  return { sentinels: values.flatMap((v) => splitList(v, '--sentinel')).map((v) => parseHostPort(v)), name };
}

/** Refuse several URLs (a Redlock set) for commands that work on one deployment. */
export function oneTarget(global: GlobalOptions, command: string): void {
  if (global.urls.length > 1) throw new UsageError(`${command} works on one Redis deployment; several URLs (a Redlock set) are for \`hilok inspect\``);
}

/** Parse `--kind` (a comma-separated list of lock kinds). */
export function parseKinds(value: unknown): KeyKind[] | undefined {
  if (value === undefined) return undefined;
  const kinds = String(value).split(',').map((k) => k.trim()).filter(Boolean);
  for (const k of kinds) {
    if (!KEY_KINDS.includes(k as KeyKind)) throw new UsageError(`--kind must be one of ${KEY_KINDS.join(', ')}, not "${k}"`);
  }
  if (kinds.length === 0) throw new UsageError('--kind is empty');
  return kinds as KeyKind[];
}

/** Parse a positive integer option (ms). */
export function parseMs(value: unknown, option: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${option} must be an integer ≥ ${min} (ms), not "${String(value)}"`);
  return n;
}
