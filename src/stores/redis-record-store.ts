/**
 * Durable 2FA records on Redis: one hash per user (see redis-keys.ts). Needs
 * a Redis that persists (AOF or RDB) and does not evict; see the README's
 * operators' section.
 */
import { redisKeys, DEFAULT_KEY_PREFIX, type RedisKeys } from './redis-keys.ts';
import { ADD_DEVICE, ADVANCE_COUNTER, REMOVE_DEVICE, REPLACE_FIELDS, RESEAL_DEVICE, SET_DEVICE_FIELD } from './redis-record-scripts.ts';
import { runScript, SEALED_SECRET_SHAPE, type RedisClient, type ResealOutcome } from './redis-scripts.ts';
import type { RedisStoreOptions } from './redis-guard-store.ts';
import type { AddDeviceOutcome, CounterOutcome, DeviceRecord, PasskeyCredential, Policy, RecordStore, RemoveDeviceOutcome, UserRecord } from '../core/store-types.ts';

/** A passkey's fixed part, `k:<id>` (JSON); its counter lives in `c:<id>` so one script can advance it. */
type StoredPasskey = Omit<PasskeyCredential, 'counter'>;

/** A device as records before 0.2 kept it, in one JSON field `d:<id>` (read until a script converts the record). */
type LegacyDevice = Pick<DeviceRecord, 'id' | 'sealedSecret' | 'createdAt'> & { passkey?: StoredPasskey };

export class RedisRecordStore implements RecordStore {
  private readonly keys: RedisKeys;

  constructor(private readonly redis: RedisClient, options: RedisStoreOptions = {}) {
    this.keys = redisKeys(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
  }

  async get(userId: string): Promise<UserRecord> {
    const h = await this.redis.hgetall(this.keys.record(userId));
    const devices: DeviceRecord[] = [];
    let backupCodesRemaining = 0;
    const device = (id: string, sealedSecret: string, createdAt: number, passkey: StoredPasskey | undefined): void => {
      const used = h[`u:${id}`];
      const d: DeviceRecord = { id, sealedSecret, createdAt, name: h[`n:${id}`] ?? '', lastUsedAt: used ? Number(used) : null };
      if (passkey) d.passkey = { ...passkey, transports: Array.isArray(passkey.transports) ? passkey.transports : [], counter: Number(h[`c:${id}`] ?? 0) };
      devices.push(d);
    };
    for (const [field, value] of Object.entries(h)) {
      const kind = field.slice(0, 2);
      const id = field.slice(2);
      if (kind === 'b:') backupCodesRemaining += 1;
      else if (kind === 's:') device(id, value, Number(h[`t:${id}`] ?? 0), undefined);
      else if (kind === 'k:') device(id, '', Number(h[`t:${id}`] ?? 0), JSON.parse(value) as StoredPasskey);
      else if (kind === 'd:') {
        const legacy = JSON.parse(value) as LegacyDevice;
        device(legacy.id, legacy.sealedSecret, legacy.createdAt, legacy.passkey);
      }
    }
    devices.sort((a, b) => a.createdAt - b.createdAt);
    return { userId, devices, backupCodesRemaining, required: h.req === '1', generation: Number(h.gen ?? 0) };
  }

  async addDevice(userId: string, d: DeviceRecord, maxDevices: number): Promise<AddDeviceOutcome> {
    let kind: 's' | 'k' = 's';
    let payload = d.sealedSecret;
    if (d.passkey) {
      const { counter: _counter, ...fixed } = d.passkey;
      kind = 'k';
      payload = JSON.stringify(fixed);
    }
    const args = [d.id, maxDevices, kind, payload, d.createdAt, d.name, d.lastUsedAt === null ? '' : d.lastUsedAt, d.passkey ? d.passkey.counter : ''];
    return (await runScript(this.redis, ADD_DEVICE, [this.keys.record(userId)], args)) as AddDeviceOutcome;
  }

  async removeDevice(userId: string, deviceId: string, keepLast = false): Promise<RemoveDeviceOutcome> {
    return (await runScript(this.redis, REMOVE_DEVICE, [this.keys.record(userId)], [deviceId, keepLast ? 1 : 0])) as RemoveDeviceOutcome;
  }

  async renameDevice(userId: string, deviceId: string, name: string): Promise<boolean> {
    return (await runScript(this.redis, SET_DEVICE_FIELD, [this.keys.record(userId)], [deviceId, 'n:', name])) === 1;
  }

  async touchDevice(userId: string, deviceId: string, at: number): Promise<void> {
    await runScript(this.redis, SET_DEVICE_FIELD, [this.keys.record(userId)], [deviceId, 'u:', at]);
  }

  async advancePasskeyCounter(userId: string, deviceId: string, counter: number): Promise<CounterOutcome> {
    return (await runScript(this.redis, ADVANCE_COUNTER, [this.keys.record(userId)], [deviceId, counter])) as CounterOutcome;
  }

  /**
   * Replaces a device's sealed secret `expected` (as read) with `next` (the
   * same secret sealed with the current key), in one atomic compare-and-set:
   * `changed` when the device holds another secret now (replaced meanwhile:
   * nothing written), `missing` when it is gone. For key rotation.
   */
  async resealDevice(userId: string, deviceId: string, expected: string, next: string): Promise<ResealOutcome> {
    if (!SEALED_SECRET_SHAPE.test(next)) throw new RangeError('resealDevice: not a sealed secret');
    return (await runScript(this.redis, RESEAL_DEVICE, [this.keys.record(userId)], [deviceId, expected, next])) as ResealOutcome;
  }

  async replaceBackupCodes(userId: string, hashes: string[]): Promise<void> {
    await runScript(this.redis, REPLACE_FIELDS, [this.keys.record(userId)], ['b:', '--', ...hashes.flatMap((h) => [`b:${h}`, '1'])]);
  }

  async consumeBackupCode(userId: string, hashes: readonly string[]): Promise<boolean> {
    if (hashes.length === 0) return false;
    // One HDEL of every form: atomic, and only one caller can remove the field.
    return (await this.redis.hdel(this.keys.record(userId), ...hashes.map((h) => `b:${h}`))) > 0;
  }

  async clearFactors(userId: string): Promise<void> {
    await runScript(this.redis, REPLACE_FIELDS, [this.keys.record(userId)], ['d:', 's:', 'k:', 't:', 'n:', 'u:', 'c:', 'b:', '--']);
  }

  async bumpGeneration(userId: string): Promise<number> {
    return this.redis.hincrby(this.keys.record(userId), 'gen', 1);
  }

  async setRequired(userIds: string[], required: boolean): Promise<void> {
    // Users live on different Cluster slots: one command each.
    await Promise.all(userIds.map((id) => this.redis.hset(this.keys.record(id), 'req', required ? '1' : '0')));
  }

  async getPolicy(): Promise<Policy> {
    return { requireAll: (await this.redis.hget(this.keys.policy(), 'requireAll')) === '1' };
  }

  async setPolicy(p: Policy): Promise<void> {
    await this.redis.hset(this.keys.policy(), 'requireAll', p.requireAll ? '1' : '0');
  }
}
