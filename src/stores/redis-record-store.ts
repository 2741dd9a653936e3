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

/** What is stored under `d:<id>`; name and last use live in their own fields. */
/** `d:<id>`: what never changes; a passkey's counter lives in `c:<id>` so one script can advance it. */
type StoredDevice = Pick<DeviceRecord, 'id' | 'sealedSecret' | 'createdAt'> & { passkey?: Omit<PasskeyCredential, 'counter'> };

export class RedisRecordStore implements RecordStore {
  private readonly keys: RedisKeys;

  constructor(private readonly redis: RedisClient, options: RedisStoreOptions = {}) {
    this.keys = redisKeys(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
  }

  async get(userId: string): Promise<UserRecord> {
    const h = await this.redis.hgetall(this.keys.record(userId));
    const devices: DeviceRecord[] = [];
    let backupCodesRemaining = 0;
    for (const [field, value] of Object.entries(h)) {
      if (field.startsWith('b:')) backupCodesRemaining += 1;
      else if (field.startsWith('d:')) {
        const { passkey, ...d } = JSON.parse(value) as StoredDevice;
        const used = h[`u:${d.id}`];
        const device: DeviceRecord = { ...d, name: h[`n:${d.id}`] ?? '', lastUsedAt: used ? Number(used) : null };
        if (passkey) device.passkey = { ...passkey, counter: Number(h[`c:${d.id}`] ?? 0) };
        devices.push(device);
      }
    }
    devices.sort((a, b) => a.createdAt - b.createdAt);
    return { userId, devices, backupCodesRemaining, required: h.req === '1', generation: Number(h.gen ?? 0) };
  }

  async addDevice(userId: string, d: DeviceRecord, maxDevices: number): Promise<AddDeviceOutcome> {
    const stored: StoredDevice = { id: d.id, sealedSecret: d.sealedSecret, createdAt: d.createdAt };
    if (d.passkey) {
      const { counter: _counter, ...fixed } = d.passkey;
      stored.passkey = fixed;
    }
    const args = [d.id, maxDevices, JSON.stringify(stored), d.name, d.lastUsedAt === null ? '' : d.lastUsedAt, d.passkey ? d.passkey.counter : ''];
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

  async consumeBackupCode(userId: string, hash: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.record(userId), `b:${hash}`)) === 1;
  }

  async clearFactors(userId: string): Promise<void> {
    await runScript(this.redis, REPLACE_FIELDS, [this.keys.record(userId)], ['d:', 'n:', 'u:', 'c:', 'b:', '--']);
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
