/**
 * Durable records kept in process memory: for development and tests only —
 * everything is gone when the process exits.
 */
import type { AddDeviceOutcome, CounterOutcome, DeviceRecord, Policy, RecordStore, RemoveDeviceOutcome, UserRecord } from '../core/store-types.ts';

interface Entry {
  devices: Map<string, DeviceRecord>;
  backupCodes: Set<string>;
  required: boolean;
  generation: number;
}

/** A copy that shares nothing mutable with the stored device. */
function copyDevice(d: DeviceRecord): DeviceRecord {
  return d.passkey ? { ...d, passkey: { ...d.passkey } } : { ...d };
}

export class MemoryRecordStore implements RecordStore {
  private readonly users = new Map<string, Entry>();
  private policy: Policy = { requireAll: false };

  private entry(userId: string): Entry {
    let e = this.users.get(userId);
    if (!e) {
      e = { devices: new Map(), backupCodes: new Set(), required: false, generation: 0 };
      this.users.set(userId, e);
    }
    return e;
  }

  async get(userId: string): Promise<UserRecord> {
    const e = this.users.get(userId);
    if (!e) return { userId, devices: [], backupCodesRemaining: 0, required: false, generation: 0 };
    return {
      userId,
      devices: [...e.devices.values()].map(copyDevice).sort((a, b) => a.createdAt - b.createdAt),
      backupCodesRemaining: e.backupCodes.size,
      required: e.required,
      generation: e.generation,
    };
  }

  async addDevice(userId: string, device: DeviceRecord, maxDevices: number): Promise<AddDeviceOutcome> {
    // Count and add without an await in between: atomic on the event loop.
    const devices = this.entry(userId).devices;
    if (!devices.has(device.id) && devices.size >= maxDevices) return 'full';
    const first = devices.size === 0;
    devices.set(device.id, copyDevice(device));
    return first ? 'added-first' : 'added';
  }

  async removeDevice(userId: string, deviceId: string, keepLast = false): Promise<RemoveDeviceOutcome> {
    const e = this.users.get(userId);
    if (!e?.devices.has(deviceId)) return 'missing';
    if (e.devices.size === 1 && keepLast) return 'kept-last';
    e.devices.delete(deviceId);
    if (e.devices.size > 0) return 'removed';
    e.backupCodes.clear();
    return 'removed-last';
  }

  async renameDevice(userId: string, deviceId: string, name: string): Promise<boolean> {
    const d = this.users.get(userId)?.devices.get(deviceId);
    if (!d) return false;
    d.name = name;
    return true;
  }

  async touchDevice(userId: string, deviceId: string, at: number): Promise<void> {
    const d = this.users.get(userId)?.devices.get(deviceId);
    if (d) d.lastUsedAt = at;
  }

  async advancePasskeyCounter(userId: string, deviceId: string, counter: number): Promise<CounterOutcome> {
    const passkey = this.users.get(userId)?.devices.get(deviceId)?.passkey;
    if (!passkey) return 'missing';
    if ((passkey.counter !== 0 || counter !== 0) && counter <= passkey.counter) return 'regressed';
    passkey.counter = counter;
    return 'advanced';
  }

  async replaceBackupCodes(userId: string, hashes: string[]): Promise<void> {
    this.entry(userId).backupCodes = new Set(hashes);
  }

  async consumeBackupCode(userId: string, hashes: readonly string[]): Promise<boolean> {
    const codes = this.users.get(userId)?.backupCodes;
    if (!codes) return false;
    let removed = false;
    for (const h of hashes) removed = codes.delete(h) || removed;
    return removed;
  }

  async clearFactors(userId: string): Promise<void> {
    const e = this.users.get(userId);
    if (!e) return;
    e.devices.clear();
    e.backupCodes.clear();
  }

  async bumpGeneration(userId: string): Promise<number> {
    return ++this.entry(userId).generation;
  }

  async setRequired(userIds: string[], required: boolean): Promise<void> {
    for (const id of userIds) this.entry(id).required = required;
  }

  async getPolicy(): Promise<Policy> {
    return { ...this.policy };
  }

  async setPolicy(policy: Policy): Promise<void> {
    this.policy = { ...policy };
  }
}
