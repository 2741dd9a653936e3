/**
 * 2. Verification: POST /2fa/verify across many users on Redis (each user
 *    once, from its own client IP), the Redis commands per verification from
 *    INFO commandstats, and a small MONITOR sample that shows which of them
 *    the app sent and which ran inside the Lua scripts.
 */
import type autocannon from 'autocannon';
import { generateCode } from '../src/index.ts';
import type { BenchContext } from './context.ts';
import { httpRequest, pool, runLoad, sessionCookie, statusSummary, type LoadResult } from './load.ts';
import { countCommands, monitorCommands, pollMemory, usedMemory, type MonitoredCommand, type StatsDelta } from './redis-stats.ts';

export interface Verifier { uid: string; secret: string; cookie: string; ip: string }

/** A distinct client address per user (the verify app trusts one X-Forwarded-For hop). */
export function clientIp(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/** The password step for each user on the verify app: half-logged-in sessions. */
export async function loginUsers(ctx: BenchContext, users: { uid: string; secret: string; ip: string }[]): Promise<Verifier[]> {
  return pool(users, 32, async (u) => {
    const r = await httpRequest(ctx.ports.verify, 'POST', '/login', { 'x-forwarded-for': u.ip }, { uid: u.uid });
    if (r.status !== 200) throw new Error(`login ${u.uid}: ${r.status} ${r.body}`);
    return { ...u, cookie: sessionCookie(r) };
  });
}

export interface StormResult {
  label: string;
  users: number;
  load: LoadResult;
  redis: StatsDelta;
  cpuMicros: number;
  memBefore: number;
  memPeak: number;
  memAfter: number;
  /** Responses whose body was the expected one. */
  expected: number;
}

/**
 * Every verifier sends one POST /2fa/verify, `connections` at a time. The
 * code is computed when the request is built (`codeOf(secret, now)`).
 */
export async function verificationStorm(
  ctx: BenchContext, label: string, verifiers: Verifier[], o: { connections: number; codeOf: (secret: string, now: number) => string; expect: (status: number, body: string) => boolean },
): Promise<StormResult> {
  let next = 0;
  let expected = 0;
  const requests: autocannon.Request[] = [{
    method: 'POST',
    path: '/2fa/verify',
    setupRequest: (req) => {
      const v = verifiers[next++];
      if (!v) throw new Error('more requests than verifiers');
      return {
        ...req,
        headers: { ...req.headers, cookie: v.cookie, 'x-forwarded-for': v.ip, accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify({ code: o.codeOf(v.secret, Date.now()) }),
      };
    },
    onResponse: (status, body) => {
      if (o.expect(status, body)) expected++;
    },
  }];
  const memBefore = await usedMemory(ctx.admin);
  const poll = pollMemory(ctx.admin, 100);
  let load: LoadResult | undefined;
  const cpuBefore = await ctx.serverCpuMicros();
  const redis = await countCommands(ctx.admin, async () => {
    load = await runLoad({ url: ctx.url('verify'), connections: o.connections, amount: verifiers.length, requests });
  });
  const cpuMicros = (await ctx.serverCpuMicros()) - cpuBefore;
  const { peak } = await poll.stop();
  const memAfter = await usedMemory(ctx.admin);
  if (!load) throw new Error('no load result');
  if (next !== verifiers.length) throw new Error(`${label}: ${next} requests built for ${verifiers.length} verifiers`);
  if (expected !== verifiers.length) throw new Error(`${label}: only ${expected} of ${verifiers.length} answers as expected (${statusSummary(load)})`);
  return { label, users: verifiers.length, load, redis, cpuMicros, memBefore, memPeak: Math.max(peak, memAfter), memAfter, expected };
}

export const validCode = (secret: string, now: number): string => generateCode(secret, now);
/**
 * Right shape, from ten minutes on: outside the ±1 window, and never equal
 * by chance (1 in ~300,000) to a code the window accepts now or soon.
 */
export function wrongCode(secret: string, now: number): string {
  const near = new Set([-60_000, -30_000, 0, 30_000, 60_000].map((d) => generateCode(secret, now + d)));
  for (let minutes = 10; ; minutes++) {
    const code = generateCode(secret, now + minutes * 60_000);
    if (!near.has(code)) return code;
  }
}

export const isVerified = (status: number, body: string): boolean => status === 200 && body.includes('"verified":true');
export const isInvalidCode = (status: number, body: string): boolean => status === 401 && body.includes('"invalid_code"');

export interface MonitorRow { source: 'client' | 'lua'; command: string; keyClass: string; perVerification: number }

/**
 * A few sequential verifications under MONITOR: every command with its
 * origin (sent by a client, or run by a Lua script) and the kind of key.
 */
export async function monitorSample(ctx: BenchContext, verifiers: Verifier[]): Promise<{ rows: MonitorRow[]; raw: MonitoredCommand[] }> {
  const raw = await monitorCommands(ctx.redisUrl, async () => {
    for (const v of verifiers) {
      const r = await httpRequest(ctx.ports.verify, 'POST', '/2fa/verify', { cookie: v.cookie, 'x-forwarded-for': v.ip }, { code: validCode(v.secret, Date.now()) });
      if (!isVerified(r.status, r.body)) throw new Error(`monitor sample ${v.uid}: ${r.status} ${r.body}`);
    }
    // Let the fire-and-forget last-use write land inside the window.
    await new Promise((r) => setTimeout(r, 100));
  });
  const counts = new Map<string, MonitorRow>();
  for (const c of raw) {
    const k = `${c.source}|${c.command}|${c.keyClass}`;
    const row = counts.get(k) ?? { source: c.source, command: c.command, keyClass: c.keyClass, perVerification: 0 };
    row.perVerification += 1 / verifiers.length;
    counts.set(k, row);
  }
  return { rows: [...counts.values()], raw };
}
