/**
 * What a command of the operators' command line writes to, and the error it
 * stops with. `runCli` gets these from main.ts (the process) or from a test.
 */

export interface CliIo {
  /** Standard output: reports, `--json` objects, audit lines. */
  stdout(text: string): void;
  /** Standard error: errors, warnings, progress. */
  stderr(text: string): void;
  /** The environment (`REDIS_URL`, `TWO_FACTOR_KEYS`). */
  env: Record<string, string | undefined>;
  /** Standard error is a terminal: progress is one line redrawn in place. */
  isTTY?: boolean | undefined;
  /**
   * For tests only: `rotate-keys` calls it between reading a batch of records
   * and writing their re-sealed secrets, so a test can change records in
   * that window (the compare-and-set must then leave them alone).
   */
  afterRead?: ((userIds: string[]) => Promise<void>) | undefined;
}

/** A problem the operator must fix (bad input, Redis unreachable): one line on stderr, exit status 2. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** `n` with thousands separators, the way the reports print counts: 10,000. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** `n` of `noun`, singular or plural: "1 key", "3 keys". */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${count(n)} ${n === 1 ? noun : nouns}`;
}

/** Bytes for people: 812 B, 20.5 KB, 3.1 MB (powers of 1024). */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** An error's message on one line, without a stack. */
export function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.trim() || (err instanceof Error ? err.name : 'unknown error');
}
