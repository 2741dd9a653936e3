/**
 * 1. Gate overhead on a protected route for sessions that already passed
 *    the second factor: the same app with and without `tf.gate`
 *    (+ `tf.routes`), on in-memory and on Redis sessions, runs interleaved;
 *    on Koa, then the same on Express (`tf.gate` + `tf.router`).
 *    Also Redis commands per request from INFO commandstats, first over a
 *    fixed number of requests inside the state cache interval, then over
 *    the timed runs (which outlast the 15 s cache: each session's state is
 *    re-read once per interval).
 */
import { generateCode } from '../src/index.ts';
import type autocannon from 'autocannon';
import { enrolUsers, type BenchContext } from './context.ts';
import { httpRequest, mergeLoads, okCount, pool, runLoad, sessionCookie, statusSummary, type LoadResult } from './load.ts';
import { countCommands, diffStats, commandStats, type StatsDelta } from './redis-stats.ts';
import type { AppName } from './server-process.ts';

export interface GateOptions {
  users: number;
  connections: number;
  warmupSeconds: number;
  /** Each config runs `rounds` × `roundSeconds`, alternating with its pair. */
  rounds: number;
  roundSeconds: number;
  /** Requests of the in-cache command count. */
  countRequests: number;
  /** The gate's `stateCacheMs` (default 15 s). */
  stateCacheMs: number;
}

export type Adapter = 'koa' | 'express';

export interface GateConfigResult {
  adapter: Adapter;
  sessions: 'memory' | 'redis';
  gate: boolean;
  app: AppName;
  load: LoadResult;
  cpuMicros: number;
  redis: StatsDelta;
}

/** One round of a pair: both apps, back to back. */
export interface GateRound { withRps: number; withoutRps: number; withCpu: number; withoutCpu: number }

export interface GatePairResult {
  adapter: Adapter;
  sessions: 'memory' | 'redis';
  rounds: GateRound[];
  /** HGETALL of records during the gated timed runs: the gate re-reading state after its cache expired. */
  stateReads: number;
  /** Cache expiries those runs spanned, summed over sessions: one read each would be ideal. */
  expiries: number;
}

export interface InCacheCount {
  adapter: Adapter;
  sessions: 'memory' | 'redis';
  gated: StatsDelta;
  plain: StatsDelta;
  requests: number;
  /** ms from the first session's verification to the end of the count. */
  sinceVerifiedMs: number;
}

export interface GateResult {
  configs: GateConfigResult[];
  pairs: GatePairResult[];
  inCache: InCacheCount[];
  sanity: string[];
}

/** `users` names the verified users: the Koa ones as they always were. */
const PAIRS = [
  { adapter: 'koa', sessions: 'memory', gated: 'memGated', plain: 'memPlain', users: 'memory' },
  { adapter: 'koa', sessions: 'redis', gated: 'redisGated', plain: 'redisPlain', users: 'redis' },
  { adapter: 'express', sessions: 'memory', gated: 'exMemGated', plain: 'exMemPlain', users: 'express-memory' },
  { adapter: 'express', sessions: 'redis', gated: 'exRedisGated', plain: 'exRedisPlain', users: 'express-redis' },
] as const;

/** Logs users in on the gated app and passes the second factor: returns their session cookies. */
async function verifiedSessions(ctx: BenchContext, app: AppName, secrets: Map<string, string>): Promise<{ cookies: string[]; firstVerifiedAt: number; verifiedAt: number[] }> {
  const port = ctx.ports[app];
  let firstVerifiedAt = Infinity;
  const verifiedAt: number[] = [];
  const cookies = await pool([...secrets], 8, async ([uid, secret]) => {
    const login = await httpRequest(port, 'POST', '/login', {}, { uid });
    if (login.status !== 200) throw new Error(`login ${uid}: ${login.status} ${login.body}`);
    const cookie = sessionCookie(login);
    const verify = await httpRequest(port, 'POST', '/2fa/verify', { cookie }, { code: generateCode(secret, Date.now()) });
    if (verify.status !== 200) throw new Error(`verify ${uid}: ${verify.status} ${verify.body}`);
    firstVerifiedAt = Math.min(firstVerifiedAt, Date.now());
    verifiedAt.push(Date.now());
    return sessionCookie(verify, cookie);
  });
  return { cookies, firstVerifiedAt, verifiedAt };
}

async function expectStatus(port: number, cookie: string, expected: number, what: string): Promise<string> {
  const r = await httpRequest(port, 'GET', '/protected', { cookie });
  if (r.status !== expected) throw new Error(`${what}: expected ${expected}, got ${r.status} ${r.body}`);
  return `${what}: ${r.status} ${r.body}`;
}

export async function gateOverhead(ctx: BenchContext, o: GateOptions, log: (m: string) => void): Promise<GateResult> {
  const configs: GateConfigResult[] = [];
  const pairs: GatePairResult[] = [];
  const inCache: InCacheCount[] = [];
  const sanity: string[] = [];

  for (const pair of PAIRS) {
    const uids = Array.from({ length: o.users }, (_, i) => `gate-${pair.users}-${i + 1}`);
    const secrets = await enrolUsers(ctx, uids);
    const { cookies, firstVerifiedAt, verifiedAt } = await verifiedSessions(ctx, pair.gated, secrets);
    const requests: autocannon.Request[] = cookies.map((cookie) => ({ method: 'GET', path: '/protected', headers: { cookie, accept: 'application/json' } }));

    // The gate is really there: a half-logged-in session is stopped by it, and only by it.
    const half = `gate-${pair.users}-half`;
    const what = `${pair.adapter}, ${pair.sessions} sessions`;
    await enrolUsers(ctx, [half]);
    const halfCookie = sessionCookie(await httpRequest(ctx.ports[pair.gated], 'POST', '/login', {}, { uid: half }));
    sanity.push(await expectStatus(ctx.ports[pair.gated], halfCookie, 401, `${what}, gated app, password only`));
    sanity.push(await expectStatus(ctx.ports[pair.plain], halfCookie, 200, `${what}, app without gate, password only`));
    sanity.push(await expectStatus(ctx.ports[pair.gated], cookies[0]!, 200, `${what}, gated app, verified`));

    // Redis commands inside the cache interval, right after verification.
    const count = async (app: AppName): Promise<StatsDelta> => countCommands(ctx.admin, async () => {
      const r = await runLoad({ url: ctx.url(app), connections: o.connections, amount: o.countRequests, requests });
      if (okCount(r) !== o.countRequests) throw new Error(`${app}: ${statusSummary(r)}`);
    });
    const gated = await count(pair.gated);
    const plain = await count(pair.plain);
    inCache.push({ adapter: pair.adapter, sessions: pair.sessions, gated, plain, requests: o.countRequests, sinceVerifiedMs: Date.now() - firstVerifiedAt });
    log(`  ${what}: ${o.users} verified sessions ready; in-cache count done`);

    // Warm-up, then interleaved timed runs.
    for (const app of [pair.plain, pair.gated]) await runLoad({ url: ctx.url(app), connections: o.connections, duration: o.warmupSeconds, requests });
    const runs = new Map<AppName, { loads: LoadResult[]; cpu: number; stats: StatsDelta[] }>([
      [pair.plain, { loads: [], cpu: 0, stats: [] }],
      [pair.gated, { loads: [], cpu: 0, stats: [] }],
    ]);
    const rounds: GateRound[] = [];
    for (let round = 0; round < o.rounds; round++) {
      // ABBA: each app goes first in half of the rounds.
      const order = round % 2 === 0 ? [pair.plain, pair.gated] : [pair.gated, pair.plain];
      const r = { withRps: 0, withoutRps: 0, withCpu: 0, withoutCpu: 0 };
      for (const app of order) {
        const acc = runs.get(app)!;
        const statsBefore = await commandStats(ctx.admin);
        const cpuBefore = await ctx.serverCpuMicros();
        const load = await runLoad({ url: ctx.url(app), connections: o.connections, duration: o.roundSeconds, requests });
        const cpu = (await ctx.serverCpuMicros()) - cpuBefore;
        acc.cpu += cpu;
        acc.stats.push(diffStats(statsBefore, await commandStats(ctx.admin)));
        acc.loads.push(load);
        if (app === pair.gated) { r.withRps = load.requests / load.seconds; r.withCpu = cpu / load.requests; }
        else { r.withoutRps = load.requests / load.seconds; r.withoutCpu = cpu / load.requests; }
      }
      rounds.push(r);
      log(`  ${what}, round ${round + 1}: without ${Math.round(r.withoutRps)} req/s, with gate ${Math.round(r.withRps)} req/s`);
    }
    const end = Date.now();
    const expiries = verifiedAt.reduce((a, v) => a + Math.floor((end - v) / o.stateCacheMs), 0);
    const stateReads = runs.get(pair.gated)!.stats.reduce((a, d) => a + (d.byCommand.find(([n]) => n === 'hgetall')?.[1].calls ?? 0), 0);
    pairs.push({ adapter: pair.adapter, sessions: pair.sessions, rounds, stateReads, expiries });
    for (const [app, acc] of runs) {
      const load = mergeLoads(acc.loads);
      if (okCount(load) !== load.requests) throw new Error(`${app}: ${statusSummary(load)}`);
      configs.push({ adapter: pair.adapter, sessions: pair.sessions, gate: app === pair.gated, app, load, cpuMicros: acc.cpu, redis: sumStats(acc.stats) });
    }
  }
  return { configs, pairs, inCache, sanity };
}

function sumStats(all: StatsDelta[]): StatsDelta {
  const m = new Map<string, { calls: number; usec: number }>();
  for (const d of all) for (const [name, c] of d.byCommand) {
    const x = m.get(name) ?? { calls: 0, usec: 0 };
    m.set(name, { calls: x.calls + c.calls, usec: x.usec + c.usec });
  }
  const byCommand = [...m].sort((a, b) => b[1].calls - a[1].calls);
  return { byCommand, calls: byCommand.reduce((a, [, c]) => a + c.calls, 0), usec: byCommand.reduce((a, [, c]) => a + c.usec, 0) };
}

export function describeCommands(d: StatsDelta, per: number): string {
  if (d.calls === 0) return 'none';
  return d.byCommand.map(([name, c]) => `${name} ${(c.calls / per).toFixed(c.calls / per < 0.1 ? 4 : 2)}`).join(', ');
}
