/**
 * 4. Redis memory: used_memory before and after enrolling many users (bytes
 *    per enrolled user, with the exact size of each key kind), and which keys
 *    the package leaves behind with which TTL (guard keys must all expire;
 *    records are durable by design).
 */
import { redisKeys } from '../src/index.ts';
import { enrolUsers, type BenchContext } from './context.ts';
import { pool } from './load.ts';
import { averageKeySize, keyTtlReport, usedMemory, type KeyClassReport } from './redis-stats.ts';

const keys = redisKeys();

export interface EnrolmentMemory {
  users: number;
  seconds: number;
  before: number;
  after: number;
  /** Average MEMORY USAGE of a sample of each key kind the enrolment wrote. */
  recordBytes: number;
  stepsBytes: number;
  secrets: Map<string, string>;
}

export async function enrolmentMemory(ctx: BenchContext, userIds: string[]): Promise<EnrolmentMemory> {
  const before = await usedMemory(ctx.admin);
  const t0 = performance.now();
  const secrets = await enrolUsers(ctx, userIds, 32);
  const seconds = (performance.now() - t0) / 1000;
  const after = await usedMemory(ctx.admin);
  const sample = userIds.slice(0, 200);
  return {
    users: userIds.length, seconds, before, after, secrets,
    recordBytes: await averageKeySize(ctx.admin, sample.map((u) => keys.record(u))),
    stepsBytes: await averageKeySize(ctx.admin, sample.map((u) => keys.steps(u))),
  };
}

/** Shown-but-unconfirmed secrets (abandoned QR codes): they must expire. */
export async function pendingEnrolments(ctx: BenchContext, userIds: string[]): Promise<void> {
  await pool(userIds, 16, (uid) => ctx.tf.service.startEnrolment(uid, uid, 'Second phone', { endpoint: 'bench' }));
}

export interface KeyReport { classes: (KeyClassReport & { avgBytes: number })[]; other: number }

export async function keyReport(ctx: BenchContext): Promise<KeyReport> {
  const { classes, other } = await keyTtlReport(ctx.admin);
  const withSizes = [];
  for (const c of classes) withSizes.push({ ...c, avgBytes: await averageKeySize(ctx.admin, c.sample) });
  return { classes: withSizes, other };
}
