/**
 * `koa-two-factor rotate-keys`: re-seals every TOTP secret (devices and
 * pending enrolments) with the first key of TWO_FACTOR_KEYS, while the app
 * serves. Each write is a compare-and-set in one Lua script (the store's
 * `resealDevice` / `resealEnrolment`): a secret the app replaced after it was
 * read is never overwritten; it is read again and re-sealed if still needed.
 * Resumable: a run only re-seals what is still sealed with another key, so
 * an interrupted rotation is finished by running it again.
 */
import type { SecretBox } from '../core/encryption.ts';
import { parseRedisKey, redisKeyPatterns } from '../stores/redis-keys.ts';
import { RedisGuardStore } from '../stores/redis-guard-store.ts';
import { RedisRecordStore } from '../stores/redis-record-store.ts';
import type { ResealOutcome } from '../stores/redis-scripts.ts';
import { count, plural, type CliIo } from './cli-io.ts';
import { connect, type ConnectOptions } from './connect.ts';
import { requireKeys } from './keys.ts';
import { Progress } from './progress.ts';
import { countKeys, scanKeys, scanUsers } from './scan-users.ts';

/** Keys per SCAN call, and so users read and re-sealed at once. */
const BATCH = 500;
/** Reads of one secret the app keeps changing before leaving it to the next run. */
const MAX_ATTEMPTS = 5;

export interface RotateOptions {
  connect: ConnectOptions;
  prefix: string;
  dryRun: boolean;
  json: boolean;
}

/** What happened to each sealed secret; every secret lands in exactly one of the first five. */
export interface Tally {
  /** Re-sealed with the first key (with `--dry-run`: would be). */
  resealed: number;
  /** Already sealed with the first key. */
  current: number;
  /** Removed (device) or expired (enrolment) before it could be written. */
  missing: number;
  /** Sealed with a key not listed, or altered: the key check of doctor says more. */
  unopenable: number;
  /** Changed by the app at every attempt: left for the next run. */
  unfinished: number;
  /** Secrets the app changed between this run's read and write (read again, never overwritten). */
  changed: number;
}

function tally(): Tally {
  return { resealed: 0, current: 0, missing: 0, unopenable: 0, unfinished: 0, changed: 0 };
}

/**
 * Brings one sealed secret to the first key: open, seal, compare-and-set;
 * when the app changed it meanwhile, read it again and start over.
 */
async function resealOne(box: SecretBox, userId: string, read: string, t: Tally, dryRun: boolean,
  write: (expected: string, next: string) => Promise<ResealOutcome>, reread: () => Promise<string | null>): Promise<void> {
  let sealed = read;
  for (let attempt = 1; ; attempt++) {
    // An old-format box under the current key is re-sealed too: the compact form keeps the record small.
    if (!box.isStale(sealed) && box.isCompact(sealed)) {
      t.current++;
      return;
    }
    let next: string;
    try {
      next = box.sealSecret(box.open(sealed, userId), userId);
    } catch {
      t.unopenable++;
      return;
    }
    if (dryRun) {
      t.resealed++;
      return;
    }
    const outcome = await write(sealed, next);
    if (outcome === 'resealed') {
      t.resealed++;
      return;
    }
    if (outcome === 'changed' && attempt === 1) t.changed++;
    const again = outcome === 'missing' ? null : await reread();
    if (again === null) {
      t.missing++;
      return;
    }
    if (attempt >= MAX_ATTEMPTS) {
      t.unfinished++;
      return;
    }
    sealed = again;
  }
}

export interface RotateSummary {
  dryRun: boolean;
  /** The key that seals now. */
  key: string;
  /** The other listed keys. */
  olderKeys: string[];
  devices: Tally;
  enrolments: Tally;
  /** devices.resealed + enrolments.resealed */
  resealed: number;
}

export async function rotateKeys(o: RotateOptions, io: CliIo): Promise<number> {
  const keys = requireKeys(io.env, 'rotate-keys');
  const { box } = keys;
  const conn = await connect(o.connect, io.env);
  try {
    const patterns = redisKeyPatterns(o.prefix);
    const [users, pending] = await Promise.all([countKeys(conn, patterns.records), countKeys(conn, patterns.enrolments)]);
    const progress = new Progress(io, o.dryRun ? 'checking (dry run)' : 're-sealing', users + pending);
    const records = new RedisRecordStore(conn.client, { keyPrefix: o.prefix });
    const guard = new RedisGuardStore(conn.client, { keyPrefix: o.prefix });

    const devices = tally();
    for await (const ids of scanUsers(conn, o.prefix, BATCH)) {
      const read = await Promise.all(ids.map((id) => records.get(id)));
      await io.afterRead?.(ids);
      await Promise.all(read.flatMap((record) => record.devices.filter((d) => d.sealedSecret).map((d) =>
        resealOne(box, record.userId, d.sealedSecret, devices, o.dryRun,
          (expected, next) => records.resealDevice(record.userId, d.id, expected, next),
          async () => (await records.get(record.userId)).devices.find((x) => x.id === d.id)?.sealedSecret || null))));
      progress.add(ids.length);
    }

    const enrolments = tally();
    for await (const { keys: names } of scanKeys(conn, patterns.enrolments, BATCH)) {
      await Promise.all(names.map(async (name) => {
        const parsed = parseRedisKey(o.prefix, name);
        if (parsed?.kind !== 'enrolment' || parsed.userId === undefined || !parsed.rest) return;
        const { userId, rest: id } = parsed;
        const read = async () => (await guard.getEnrolment(userId, id))?.sealedSecret ?? null;
        const sealed = await read();
        if (sealed === null) return; // expired since the scan: nothing to do
        await resealOne(box, userId, sealed, enrolments, o.dryRun, (expected, next) => guard.resealEnrolment(userId, id, expected, next), read);
      }));
      progress.add(names.length);
    }
    progress.finish();

    const summary: RotateSummary = { dryRun: o.dryRun, key: keys.ids[0]!, olderKeys: keys.ids.slice(1), devices, enrolments, resealed: devices.resealed + enrolments.resealed };
    if (o.json) io.stdout(`${JSON.stringify(summary)}\n`);
    else printSummary(io, summary, users);
    if (devices.unopenable + enrolments.unopenable > 0) return 2;
    return devices.unfinished + enrolments.unfinished > 0 ? 1 : 0;
  } finally {
    await conn.close();
  }
}

function printSummary(io: CliIo, s: RotateSummary, users: number): void {
  const { devices: d, enrolments: e } = s;
  const sum = (k: keyof Tally) => d[k] + e[k];
  const what = `(${plural(d.resealed, 'authenticator app')}, ${plural(e.resealed, 'pending enrolment')})`;
  io.stdout(s.dryRun
    ? `would re-seal ${plural(s.resealed, 'secret')} with key "${s.key}" ${what}; nothing written (--dry-run)\n`
    : `re-sealed ${plural(s.resealed, 'secret')} with key "${s.key}" ${what}\n`);
  io.stdout(`checked ${plural(users, 'user')}: already sealed with "${s.key}" ${count(sum('current'))}; changed by the app meanwhile (read again, never overwritten) ${count(sum('changed'))}; removed meanwhile ${count(sum('missing'))}; could not be opened ${count(sum('unopenable'))}\n`);
  if (sum('unfinished') > 0) io.stdout(`${plural(sum('unfinished'), 'secret')} kept changing while this ran: run rotate-keys again\n`);
  if (sum('unopenable') > 0) io.stdout('some secrets open with none of the listed keys: run koa-two-factor doctor --all to see which keys are missing\n');
  if (s.olderKeys.length > 0 && !s.dryRun) {
    io.stdout(`Keep ${s.olderKeys.map((k) => `"${k}"`).join(', ')} listed after "${s.key}" in TWO_FACTOR_KEYS: backup codes made under an older key are checked with it and cannot be re-hashed (the codes are unknown), so it is needed until they are used or regenerated; listed after the first, a key only opens, never seals.\nBrowsers remembered and codes emailed before "${s.key}" went first no longer count (they use only the first key).\n`);
  }
}
