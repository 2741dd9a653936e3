/**
 * The `koa-two-factor` command as a process (src/cli/main.ts under tsx): the
 * help lists the four commands, and bad input or an unreachable Redis end
 * with one line on stderr and exit status 2 by themselves, no stack trace.
 * test/package/build.test.ts runs the built bin the same way.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePort } from '../support/redis-server.ts';

const root = resolve(import.meta.dirname, '../..');
const MAIN = join(root, 'src/cli/main.ts');

function bin(args: string[], env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: root, env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      done({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('koa-two-factor, the process', function () {
  this.timeout(30_000);

  it('--help lists doctor, reset-user, rotate-keys and stats (exit status 0)', async () => {
    const run = await bin(['--help']);
    expect(run.status).to.equal(0);
    for (const command of ['doctor', 'reset-user <id>', 'rotate-keys', 'stats']) expect(run.stdout).to.contain(`  ${command}`);
  });

  it('an unknown command, or an unreachable Redis: one line on stderr, exit status 2, ending by itself', async () => {
    const [unknown, unreachable] = await Promise.all([
      bin(['doctr']),
      freePort().then((port) => bin(['stats'], { REDIS_URL: `redis://127.0.0.1:${port}` })),
    ]);
    expect(unknown.status).to.equal(2);
    expect(unknown.stderr).to.match(/^error: unknown command 'doctr'\n\(Did you mean doctor\?\)\n$/);
    expect(unreachable.status).to.equal(2);
    expect(unreachable.stderr).to.match(/^koa-two-factor: cannot reach Redis at 127\.0\.0\.1:\d+: connect ECONNREFUSED [\d.:]+\n$/);
    // A process that hung would be killed by execFile's timeout (20 s): no exit status 2 then.
  });

  it('malformed TWO_FACTOR_KEYS: one line on stderr, exit status 2', async () => {
    const run = await bin(['rotate-keys', '--dry-run'], { TWO_FACTOR_KEYS: 'k1:short', REDIS_URL: 'redis://127.0.0.1:1' });
    expect(run.status).to.equal(2);
    expect(run.stderr).to.match(/^koa-two-factor: TWO_FACTOR_KEYS: An encryption key must be 32 bytes.*\n$/);
  });
});
