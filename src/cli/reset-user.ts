/**
 * `koa-two-factor reset-user <id>`: the admin reset (src/core/admin-actions.ts)
 * without the admin page: removes the user's authenticators, passkeys,
 * backup codes and remembered browsers, and ends their verified sessions
 * (the generation bump: at once on the 2FA routes and `requireStepUp`, at
 * each app server's gate within its `stateCacheMs`, 15 s by default). Prints
 * the `reset` audit event as one JSON line, with the operator as actor.
 */
import { userInfo } from 'node:os';
import { SecretBox } from '../core/encryption.ts';
import { isTwoFactorError } from '../core/errors.ts';
import { TwoFactorService } from '../core/two-factor-service.ts';
import { redisKeys } from '../stores/redis-keys.ts';
import { RedisGuardStore } from '../stores/redis-guard-store.ts';
import { RedisRecordStore } from '../stores/redis-record-store.ts';
import { CliError, plural, type CliIo } from './cli-io.ts';
import { connect, type ConnectOptions } from './connect.ts';

export interface ResetUserOptions {
  connect: ConnectOptions;
  prefix: string;
}

/** `cli:<os user>`: who reset, in the audit event. */
function actor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

export async function resetUser(userId: string, o: ResetUserOptions, io: CliIo): Promise<number> {
  const conn = await connect(o.connect, io.env);
  try {
    if ((await conn.client.exists(redisKeys(o.prefix).record(userId))) === 0) {
      throw new CliError(`no 2FA record for user "${userId}" under prefix "${o.prefix}": nothing to reset (check the id and --prefix)`);
    }
    const records = new RedisRecordStore(conn.client, { keyPrefix: o.prefix });
    const guard = new RedisGuardStore(conn.client, { keyPrefix: o.prefix });
    const service = new TwoFactorService({
      records, guard, issuer: 'koa-two-factor',
      // A reset opens no secret: any key will do when TWO_FACTOR_KEYS is not set.
      encryptionKeys: io.env['TWO_FACTOR_KEYS']?.trim() || `cli:${SecretBox.randomKey()}`,
      storeTimeoutMs: 10_000,
      audit: (event) => { io.stdout(`${JSON.stringify(event)}\n`); },
      logger: (message) => { io.stderr(`${message}\n`); },
    });
    const [before, browsers] = await Promise.all([records.get(userId), guard.listRememberedBrowsers(userId)]);
    const passkeys = before.devices.filter((d) => d.passkey).length;
    let state: string;
    try {
      ({ state } = await service.resetUser(userId, { endpoint: 'cli reset-user', actor: actor() }));
    } catch (err) {
      if (isTwoFactorError(err)) throw new CliError(`reset of "${userId}" failed: ${err.code} (Redis did not answer in time)`);
      throw err;
    }
    io.stdout(`reset user "${userId}": removed ${plural(before.devices.length - passkeys, 'authenticator app')}, ${plural(passkeys, 'passkey')}, ${plural(before.backupCodesRemaining, 'backup code')}, ${plural(browsers.length, 'remembered browser')}; state now ${state}. `
      + 'Verified sessions end at once on the 2FA routes and requireStepUp, and at the gate of each app server within its stateCacheMs (15 s by default).\n');
    return 0;
  } finally {
    await conn.close();
  }
}
