/**
 * doctor's report: one line per check (pass, warn or fail, what was found),
 * a line of advice under each warn and fail, and the exit status: 0 when
 * everything passes, 1 with a warning, 2 with a failure. `--json` prints the
 * same as one JSON object, for monitoring.
 */
import type { CliIo } from './cli-io.ts';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface Check {
  /** Short and stable, for monitoring: `maxmemory-policy`. */
  name: string;
  status: CheckStatus;
  /** What was found, one line. */
  detail: string;
  /** What to do about it, one line ('' when nothing). */
  advice: string;
}

export function check(name: string, status: CheckStatus, detail: string, advice = ''): Check {
  return { name, status, detail, advice };
}

/** 0 all pass, 1 any warn, 2 any fail. */
export function exitStatusOf(checks: Check[]): 0 | 1 | 2 {
  if (checks.some((c) => c.status === 'fail')) return 2;
  if (checks.some((c) => c.status === 'warn')) return 1;
  return 0;
}

const STATUS_WORD: Record<CheckStatus, string> = { pass: 'pass', warn: 'WARN', fail: 'FAIL' };

/** Prints the checks (text or one JSON object) and returns the exit status. */
export function printChecks(io: CliIo, checks: Check[], o: { json: boolean; target: string }): 0 | 1 | 2 {
  const exitStatus = exitStatusOf(checks);
  const status = (['pass', 'warn', 'fail'] as const)[exitStatus];
  if (o.json) {
    io.stdout(`${JSON.stringify({ status, exitStatus, target: o.target, checks })}\n`);
    return exitStatus;
  }
  const width = Math.max(...checks.map((c) => c.name.length));
  for (const c of checks) {
    io.stdout(`${STATUS_WORD[c.status]}  ${c.name.padEnd(width)}  ${c.detail}\n`);
    if (c.status !== 'pass' && c.advice) io.stdout(`      ${' '.repeat(width)}  → ${c.advice}\n`);
  }
  const n = (s: CheckStatus) => checks.filter((c) => c.status === s).length;
  io.stdout(`${n('pass')} pass, ${n('warn')} warn, ${n('fail')} fail (${o.target}): exit status ${exitStatus}\n`);
  return exitStatus;
}
