#!/usr/bin/env node
// Reads the results.csv written by shared/conformance/summarize.py
// (columns: test_id, service, result [passed|failed|skipped], subunit_status, reason).
//
//   results.mjs passing RESULTS.csv            print the passed test ids, sorted
//   results.mjs compare PASS-LIST RESULTS.csv  new passes and regressions against a pass list;
//                                              exit 1 if something in the list did not pass
//   results.mjs gate PASS-LIST RESULTS.csv     the same, worded for the gate
//   results.mjs count PASS-LIST                number of entries in a pass list
//
// Pass-list lines: a test id (or a regex, as run.sh accepts); '#' starts a comment.
import { readFileSync } from 'node:fs';

function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') field += '"', i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field), rows.push(row), (row = []), (field = '');
    } else field += c;
  }
  if (field !== '' || row.length) row.push(field), rows.push(row);
  return rows.filter((r) => r.length > 1 || r[0] !== '');
}

function readResults(path) {
  const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'));
  const col = (name) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${path}: no "${name}" column`);
    return i;
  };
  const [id, result, reason] = [col('test_id'), col('result'), col('reason')];
  const out = new Map();
  for (const r of rows) out.set(r[id], { result: r[result], reason: r[reason] ?? '' });
  return out;
}

export function readPassList(path) {
  const entries = [];
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.split('#', 1)[0].trim();
    if (line) entries.push(line.split(/\s+/)[0]);
  }
  return entries;
}

const isPlainId = (s) => /^[\w.]+$/.test(s);

/** For each pass-list entry: the result rows it covers. */
function match(entries, results) {
  return entries.map((entry) => {
    if (isPlainId(entry)) return { entry, rows: results.has(entry) ? [[entry, results.get(entry)]] : [] };
    const re = new RegExp(entry);
    return { entry, rows: [...results].filter(([tid]) => re.test(tid)) };
  });
}

function compare(listPath, csvPath, gate) {
  const results = readResults(csvPath);
  const entries = readPassList(listPath);
  const matched = match(entries, results);
  const covered = new Set(matched.flatMap((m) => m.rows.map(([tid]) => tid)));
  const regressions = [];
  const notRun = [];
  for (const m of matched) {
    if (m.rows.length === 0) notRun.push(m.entry);
    for (const [tid, r] of m.rows) if (r.result !== 'passed') regressions.push(`${tid}  # ${r.result}${r.reason ? ': ' + r.reason : ''}`);
  }
  const newPasses = [...results].filter(([tid, r]) => r.result === 'passed' && !covered.has(tid)).map(([tid]) => tid).sort();
  if (!gate) {
    console.log(`new passes (not in ${listPath}): ${newPasses.length}`);
    for (const t of newPasses) console.log(`  + ${t}`);
  }
  console.log(`${gate ? 'gate failures' : 'regressions'} (in ${listPath}, did not pass): ${regressions.length}`);
  for (const t of regressions) console.log(`  - ${t}`);
  if (notRun.length) {
    console.log(`in ${listPath} but not in this run: ${notRun.length}${gate ? '' : ' (not counted as regressions: the run used another list)'}`);
    for (const t of notRun) console.log(`  ? ${t}`);
  }
  const failed = regressions.length + (gate ? notRun.length : 0);
  return failed === 0 ? 0 : 1;
}

const [cmd, ...args] = process.argv.slice(2);
try {
  if (cmd === 'passing' && args.length === 1) {
    const ids = [...readResults(args[0])].filter(([, r]) => r.result === 'passed').map(([tid]) => tid).sort();
    for (const t of ids) console.log(t);
  } else if ((cmd === 'compare' || cmd === 'gate') && args.length === 2) {
    process.exitCode = compare(args[0], args[1], cmd === 'gate');
  } else if (cmd === 'count' && args.length === 1) {
    console.log(readPassList(args[0]).length);
  } else {
    console.error('usage: results.mjs passing CSV | compare LIST CSV | gate LIST CSV | count LIST');
    process.exitCode = 2;
  }
} catch (err) {
  console.error(`results.mjs: ${err.message}`);
  process.exitCode = 2;
}
