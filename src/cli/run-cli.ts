/**
 * The operators' command line (`npx koa-two-factor …`): doctor, reset-user,
 * rotate-keys, stats. `runCli` parses the arguments with commander, runs one
 * command and returns the exit status; main.ts calls it with the process'
 * streams, tests with their own.
 *
 * Exit status: 0 done (doctor: all pass), 1 doctor found a warning (or
 * rotate-keys left secrets the app kept changing), 2 a failure or bad input.
 * Errors are one line on stderr, never a stack trace.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { DEFAULT_HARD_CAP } from '../core/limits.ts';
import { DEFAULT_KEY_PREFIX } from '../stores/redis-keys.ts';
import { CliError, messageOf, type CliIo } from './cli-io.ts';
import type { ConnectOptions } from './connect.ts';
import { DEFAULT_KEY_SAMPLE, doctor } from './doctor.ts';
import { resetUser } from './reset-user.ts';
import { rotateKeys } from './rotate-keys.ts';
import { stats } from './stats.ts';

interface GlobalOptions {
  redis?: string;
  cluster?: boolean;
  prefix: string;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number, 1 or more');
  return n;
}

function connectOptions(g: GlobalOptions): ConnectOptions {
  return { redis: g.redis, cluster: g.cluster === true };
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let status = 0;
  const program = new Command('koa-two-factor')
    .description('Check and maintain the Redis behind koa-two-factor.\nEnvironment: REDIS_URL (the Redis, unless --redis), TWO_FACTOR_KEYS (the app\'s encryption keys, id1:key1,id2:key2).')
    .option('--redis <url>', 'Redis URL (default: $REDIS_URL); with --cluster, seed nodes separated by commas')
    .option('--cluster', 'the Redis is a Cluster (seed nodes in --redis or REDIS_URL)')
    .option('--prefix <prefix>', 'key prefix, the app\'s redisKeyPrefix', DEFAULT_KEY_PREFIX)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .showSuggestionAfterError();

  program.command('doctor')
    .description('check the Redis and the stored data: pass / warn / fail, exit status 0 / 1 / 2')
    .option('--json', 'one JSON object, for monitoring')
    .option('--all', 'open the secrets of every user, not a sample')
    .option('--sample <users>', 'users whose secrets the key check opens', positiveInteger, DEFAULT_KEY_SAMPLE)
    .action(async (opts: { json?: boolean; all?: boolean; sample: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      status = await doctor({ connect: connectOptions(g), prefix: g.prefix, json: opts.json === true, sample: opts.all ? Infinity : opts.sample }, io);
    });

  program.command('reset-user')
    .description('remove a user\'s 2FA (authenticators, passkeys, backup codes, remembered browsers) and end their verified sessions; prints the audit event')
    .argument('<id>', 'the user id, as the app stores it')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      status = await resetUser(id, { connect: connectOptions(g), prefix: g.prefix }, io);
    });

  program.command('rotate-keys')
    .description('re-seal every secret with the first key of TWO_FACTOR_KEYS; safe while the app serves, resumable')
    .option('--dry-run', 'count what would be re-sealed, write nothing')
    .option('--json', 'print the counts as one JSON object')
    .action(async (opts: { dryRun?: boolean; json?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      status = await rotateKeys({ connect: connectOptions(g), prefix: g.prefix, dryRun: opts.dryRun === true, json: opts.json === true }, io);
    });

  program.command('stats')
    .description('enrolled users by state, users locked out and at the hard cap, memory of the package\'s keys')
    .option('--json', 'one JSON object')
    .option('--hard-cap <failures>', 'the app\'s limits.hardCap', positiveInteger, DEFAULT_HARD_CAP)
    .action(async (opts: { json?: boolean; hardCap: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      status = await stats({ connect: connectOptions(g), prefix: g.prefix, json: opts.json === true, hardCap: opts.hardCap }, io);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return status;
  } catch (err) {
    // commander has printed its message (usage errors) or the help already.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    io.stderr(`koa-two-factor: ${err instanceof CliError ? err.message : messageOf(err)}\n`);
    return 2;
  }
}
