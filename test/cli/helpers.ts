/**
 * Running the operators' command line in-process (runCli with captured
 * output), and seeding users straight into a Redis the test started.
 */
import { generateSecret, SecretBox, parseEncryptionKeys } from '../../src/index.ts';
import { RedisRecordStore } from '../../src/stores/redis-record-store.ts';
import type { RedisClient } from '../../src/stores/redis-scripts.ts';
import { runCli } from '../../src/cli/run-cli.ts';
import type { CliIo } from '../../src/cli/cli-io.ts';

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as one JSON value (for --json). */
  json(): any;
}

/** `koa-two-factor <argv…>` with `env` (nothing from the process' environment) and, for rotate-keys, an `afterRead` hook. */
export async function cli(argv: string[], env: Record<string, string | undefined>, extra: Partial<CliIo> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, env, ...extra });
  return { status, stdout, stderr, json: () => JSON.parse(stdout) };
}

/** A fresh `id:key` setting and the SecretBox of that key alone. */
export function newKey(id: string): { setting: string; box: SecretBox } {
  const setting = `${id}:${SecretBox.randomKey()}`;
  return { setting, box: new SecretBox(parseEncryptionKeys(setting)) };
}

/**
 * Users `${prefix}-0…n-1`, each with one authenticator app `d1` whose
 * secret is sealed with `box`; returns id → secret. Written in batches of
 * 1,000 concurrent scripts (ioredis pipelines them on its one connection).
 */
export async function seedUsers(client: RedisClient, keyPrefix: string, box: SecretBox, n: number, idPrefix = 'user'): Promise<Map<string, string>> {
  const store = new RedisRecordStore(client, { keyPrefix });
  const secrets = new Map<string, string>();
  const now = Date.now();
  for (let start = 0; start < n; start += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, n - start) }, (_, j) => {
      const id = `${idPrefix}-${start + j}`;
      const secret = generateSecret();
      secrets.set(id, secret);
      return store.addDevice(id, { id: 'd1', name: 'Phone', sealedSecret: box.seal(secret, id), createdAt: now, lastUsedAt: null }, 10);
    }));
  }
  return secrets;
}
