/**
 * `@hilok/cli`: the `hilok` command (`inspect`, `watch`, `release`, `demo`) and the pieces it is
 * built from, for embedding: {@link main} runs a command line in-process, {@link readSnapshot}
 * reads every lock under a prefix without changing anything, {@link parseKey} reads hilok's key
 * layout back.
 * @packageDocumentation
 */
export { main, processIO, MAIN_HELP, VERSION } from './cli.js';
export { ExitCode, CliError, UsageError, UnreachableError, type ExitCodeValue, type CliErrorCode, type JsonFailure } from './errors.js';
export { connect, checkUrl, maskUrl, CONNECT_TIMEOUT_MS, type Connection, type Driver } from './connect.js';
export { parseKey, globEscape, KEY_KINDS, type KeyKind, type ParsedKey } from './keys.js';
export { readSnapshot, scanKeys, serverNow, underPath, type Snapshot, type SnapshotOptions, type HoldView, type WaiterView } from './snapshot.js';
export { renderInspect, renderTree, formatTtl, COLORS, PLAIN, paletteFor, type Palette, type TreeOptions } from './render.js';
export { type CliIO, type GlobalOptions, DEFAULT_URL } from './options.js';
export { inspectCommand, INSPECT_HELP } from './commands/inspect.js';
export { releaseCommand, RELEASE_HELP, type ReleaseOutcome } from './commands/release.js';
export { watchCommand, WATCH_HELP } from './commands/watch.js';
export { demoCommand, DEMO_HELP } from './commands/demo.js';
