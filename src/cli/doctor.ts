/**
 * `koa-two-factor doctor`: finds the quiet ways a deployment fails before its
 * users do. Each check prints pass, warn or fail with one line of advice;
 * exit status 0 / 1 / 2 (see report.ts); `--json` for monitoring.
 */
import { CliError, messageOf, type CliIo } from './cli-io.ts';
import { connect, describeTarget, type ConnectOptions, type Connection } from './connect.ts';
import { encryptionKeysCheck, keyLifetimesCheck } from './doctor-data-checks.ts';
import { clockCheck, connectionCheck, evictionCheck, persistenceCheck, scriptsCheck, slotsCheck, userSlotCheck, versionCheck } from './doctor-server-checks.ts';
import { readKeys } from './keys.ts';
import { check, printChecks, type Check } from './report.ts';

/** Users whose secrets the key check opens, unless `--all`. */
export const DEFAULT_KEY_SAMPLE = 200;

export interface DoctorOptions {
  connect: ConnectOptions;
  prefix: string;
  json: boolean;
  /** Users sampled by the key check; Infinity with `--all`. */
  sample: number;
}

export async function doctor(o: DoctorOptions, io: CliIo): Promise<number> {
  const keys = readKeys(io.env);
  let conn: Connection;
  try {
    conn = await connect(o.connect, io.env);
  } catch (err) {
    if (o.json && err instanceof CliError) printChecks(io, [check('connection', 'fail', err.message, 'check the URL, the network and that Redis runs')], { json: true, target: describeTarget(o.connect, io.env) });
    throw err;
  }
  try {
    const runs: [string, () => Promise<Check>][] = [
      ['connection', () => connectionCheck(conn)],
      ['redis-version', () => versionCheck(conn)],
      ['maxmemory-policy', () => evictionCheck(conn)],
      ['persistence', () => persistenceCheck(conn)],
      ['cluster-slots', () => slotsCheck(conn)],
      ['user-slot', () => userSlotCheck(conn, o.prefix)],
      ['lua-scripts', () => scriptsCheck(conn)],
      ['clock', () => clockCheck(conn)],
      ['encryption-keys', () => encryptionKeysCheck(conn, o.prefix, keys, o.sample)],
      ['key-ttl', () => keyLifetimesCheck(conn, o.prefix)],
    ];
    const checks: Check[] = [];
    for (const [name, run] of runs) {
      try {
        checks.push(await run());
      } catch (err) {
        const message = messageOf(err);
        checks.push(check(name, 'fail', `could not check: ${message}`, /NOPERM|NOAUTH|WRONGPASS/.test(message)
          ? 'give the ACL user read access to INFO, CONFIG GET, TIME, SCAN, PTTL and SCRIPT LOAD for doctor'
          : 'run doctor again; if it fails again, look at the Redis log'));
      }
    }
    return printChecks(io, checks, { json: o.json, target: conn.target });
  } finally {
    await conn.close();
  }
}
