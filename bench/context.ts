/** What every measurement gets from bench/run.ts, and enrolment through the service. */
import type { Redis } from 'ioredis';
import { generateCode, type TwoFactor } from '../src/index.ts';
import type { AppName } from './server-process.ts';
import { pool } from './load.ts';

export interface BenchContext {
  redisUrl: string;
  /** The benchmark's own Redis connection (INFO, SCAN…), not the apps'. */
  admin: Redis;
  /** A `twoFactor()` on the same Redis and keys as the apps: enrolment goes through its service. */
  tf: TwoFactor;
  ports: Record<AppName, number>;
  url(app: AppName): string;
  /** CPU time (user + system, µs) the app-server process has used so far. */
  serverCpuMicros(): Promise<number>;
}

const PERIOD_MS = 30_000;
const BOUNDARY_MARGIN_MS = 3_000;

/**
 * The previous step's code is at the edge of the ±1 window: if a step
 * boundary passes between computing it and the server checking it, it is
 * refused. Near a boundary, wait until it has passed.
 */
async function clearOfStepBoundary(): Promise<void> {
  const into = Date.now() % PERIOD_MS;
  if (into > PERIOD_MS - BOUNDARY_MARGIN_MS) await new Promise((r) => setTimeout(r, PERIOD_MS - into + 20));
}

/**
 * Enrols users the way the routes do, through the service: startEnrolment,
 * then confirmEnrolment with the previous step's code (so the current code
 * is still unused when the user later verifies). Returns each base32 secret.
 */
export async function enrolUsers(ctx: BenchContext, userIds: readonly string[], concurrency = 32): Promise<Map<string, string>> {
  const secrets = new Map<string, string>();
  const info = { endpoint: 'bench' };
  await pool(userIds, concurrency, async (uid) => {
    const started = await ctx.tf.service.startEnrolment(uid, uid, 'Phone', info);
    await clearOfStepBoundary();
    await ctx.tf.service.confirmEnrolment(uid, started.enrolmentId, generateCode(started.secret, Date.now() - 30_000), info);
    secrets.set(uid, started.secret);
  });
  return secrets;
}
