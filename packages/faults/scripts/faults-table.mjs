#!/usr/bin/env node
// Turns the `FAULTS {…}` lines of test logs into the results table of docs/reliability.md:
//   FAULTS_FULL=1 npx vitest run --root . packages/faults/test --maxWorkers=2 2>&1 | tee full.log
//   pnpm test:faults 2>&1 | tee short.log
//   node packages/faults/scripts/faults-table.mjs full.log [short.log]
// One row per scenario (and kind, and driver) of the first log, in log order, with the second log's
// acquisitions beside it; figures not in a column go to the last one.
import { readFileSync } from 'node:fs';

/** The FAULTS records of a log (ANSI colours stripped; a line cut by interleaved output is skipped). */
function records(path) {
  const text = readFileSync(path, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
  const out = [];
  for (const line of text.split('\n')) {
    const at = line.indexOf('FAULTS {');
    if (at < 0) continue;
    try {
      out.push(JSON.parse(line.slice(at + 'FAULTS '.length)));
    } catch {
      // not a whole record
    }
  }
  return out;
}

const [fullLog, shortLog] = process.argv.slice(2);
if (!fullLog) {
  console.error('usage: faults-table.mjs <full log> [<short log>]');
  process.exit(2);
}
const key = (r) => `${r.scenario}|${r.kind ?? ''}|${r.driver ?? ''}`;
const short = new Map((shortLog ? records(shortLog) : []).map((r) => [key(r), r]));
const fmt = (v) => (typeof v === 'number' ? String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ' ') : v === undefined ? '–' : String(v));
const shown = new Set(['scenario', 'kind', 'driver', 'mode', 'iterations', 'acquisitions', 'indeterminate', 'calls', 'violations', 'failures', 'keysLeft', 'wallS']);
const lines = [
  '| scenario | kind | short: acquisitions (wall s) | full: fault iterations | full: acquisitions (indeterminate) | violations | failures | keys left | full: wall s | figures (full run) |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
];
let total = 0;
let violations = 0;
// Signal lead time (next conflicting grant − signal abort), min over every run that measured one.
let leads = 0;
let minLead = Infinity;
for (const r of records(fullLog)) {
  const s = short.get(key(r));
  const figures = Object.entries(r).filter(([k]) => !shown.has(k)).map(([k, v]) => `${k} ${fmt(v)}`).join('; ');
  const iterations = r.iterations ?? r.faultIterations ?? r.schedules;
  lines.push(`| ${r.scenario} | ${r.kind ?? '–'} | ${s ? `${fmt(s.acquisitions)} (${fmt(s.wallS)})` : '–'} | ${fmt(iterations)} | ${fmt(r.acquisitions)} (${fmt(r.indeterminate)}) | ${fmt(r.violations)} | ${fmt(r.failures)} | ${fmt(r.keysLeft ?? r.keysLeft)} | ${fmt(r.wallS)} | ${figures} |`);
  total += r.acquisitions ?? 0;
  violations += r.violations ?? 0;
  if (r.signalLeads > 0) {
    leads += r.signalLeads;
    minLead = Math.min(minLead, r.minSignalLeadMs);
  }
}
const leadLine = leads > 0 ? ` Signal lead time measured on ${fmt(leads)} holds that ended by their signal: min ${minLead} ms.` : '';
lines.push('', `${lines.length - 2} scenario runs, ${fmt(total)} acquisitions checked, ${violations} violations.${leadLine}`);
console.log(lines.join('\n'));
