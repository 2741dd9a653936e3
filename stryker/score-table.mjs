// Prints the per-module table of docs/testing.md from Stryker's JSON report:
//   node stryker/score-table.mjs [reports/mutation/mutation.json] [--survivors]
// Score = (killed + timeout) / (killed + timeout + survived + no coverage);
// mutants that do not type-check (CompileError) or crash on load (RuntimeError)
// are not in it, as in Stryker's own score.
import fs from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--')) ?? 'reports/mutation/mutation.json';
const report = JSON.parse(fs.readFileSync(file, 'utf8'));
const rows = [];
const total = { killed: 0, survived: 0, noCoverage: 0, timeout: 0, compileError: 0 };
for (const [name, f] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
  const c = { killed: 0, survived: 0, noCoverage: 0, timeout: 0, compileError: 0 };
  for (const m of f.mutants) {
    const key = { Killed: 'killed', Survived: 'survived', NoCoverage: 'noCoverage', Timeout: 'timeout', CompileError: 'compileError', RuntimeError: 'compileError' }[m.status];
    if (key) { c[key] += 1; total[key] += 1; }
  }
  rows.push([name, c]);
}
const score = (c) => {
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  return valid === 0 ? 'n/a' : `${((100 * (c.killed + c.timeout)) / valid).toFixed(1)} %`;
};
console.log('| module | killed | survived | no coverage | timeout | score | errors (type or load) |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const [name, c] of [...rows, ['**all**', total]]) {
  console.log(`| ${name.startsWith('src/') ? `\`${name}\`` : name} | ${c.killed} | ${c.survived} | ${c.noCoverage} | ${c.timeout} | ${score(c)} | ${c.compileError} |`);
}
if (args.includes('--survivors')) {
  for (const [name, f] of Object.entries(report.files)) {
    const lines = f.source.split('\n');
    for (const m of f.mutants.filter((x) => x.status === 'Survived' || x.status === 'NoCoverage')) {
      const l = m.location.start;
      console.log(`${m.status} ${name}:${l.line}:${l.column} ${m.mutatorName}: ${lines[l.line - 1].trim()}  =>  ${String(m.replacement).replace(/\n/g, ' ')}`);
    }
  }
}
