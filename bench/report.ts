/** Printing: markdown tables (readable in a terminal, pasteable into docs) and the machine. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(cells[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

export function heading(text: string): void {
  console.log(`\n## ${text}\n`);
}

export const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
export const fixed = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');
export const pct = (n: number): string => (Number.isFinite(n) ? `${(n * 100).toFixed(1)} %` : '-');
export const ms = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)} ms` : '-');
export const bytes = (n: number): string => {
  if (!Number.isFinite(n)) return '-';
  const a = Math.abs(n);
  if (a >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(2)} MiB`;
  if (a >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
};

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

export function machine(redisVersion: string): [string, string][] {
  return [
    ['nproc', run('nproc', [])],
    ['CPU', os.cpus()[0]?.model ?? '?'],
    ['total memory', `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`],
    ['OS', `${os.type()} ${os.release()} ${os.arch()}`],
    ['node', process.version],
    ['redis-server', `${run('redis-server', ['--version'])} (reports ${redisVersion})`],
  ];
}
