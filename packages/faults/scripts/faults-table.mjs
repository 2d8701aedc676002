#!/usr/bin/env node
// Turns the `FAULTS {…}` lines of a test log into the markdown table of docs/reliability.md:
//   FAULTS_FULL=1 pnpm test:faults 2>&1 | tee faults.log
//   node packages/faults/scripts/faults-table.mjs faults.log      (or: … < faults.log)
// One row per scenario run, in log order; figures not in a column go to the last one.
import { readFileSync } from 'node:fs';

const text = readFileSync(process.argv[2] ?? 0, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
const rows = [];
for (const line of text.split('\n')) {
  const at = line.indexOf('FAULTS {');
  if (at < 0) continue;
  try {
    rows.push(JSON.parse(line.slice(at + 'FAULTS '.length)));
  } catch {
    // A line cut by interleaved output: skip it rather than guess.
  }
}
const columns = ['scenario', 'kind', 'mode', 'iterations', 'acquisitions', 'indeterminate', 'violations', 'failures', 'keysLeft', 'wallS'];
const fmt = (v) => (typeof v === 'number' ? v.toLocaleString('en-US').replace(/,/g, ' ') : v === undefined ? '' : String(v));
const out = [`| ${[...columns, 'figures'].join(' | ')} |`, `| ${[...columns, 'figures'].map(() => '---').join(' | ')} |`];
for (const r of rows) {
  const rest = Object.entries(r).filter(([k]) => !columns.includes(k) && k !== 'calls').map(([k, v]) => `${k} ${fmt(v)}`);
  out.push(`| ${columns.map((c) => fmt(r[c])).join(' | ')} | ${rest.join('; ')} |`);
}
const total = rows.reduce((a, r) => a + (r.acquisitions ?? 0), 0);
const violations = rows.reduce((a, r) => a + (r.violations ?? 0), 0);
out.push('', `${rows.length} scenario runs, ${fmt(total)} acquisitions checked, ${violations} violations.`);
console.log(out.join('\n'));
