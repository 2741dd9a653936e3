/**
 * Side by side: this package's `POST /2fa/verify` against better-auth's
 * two-factor plugin (`POST /api/auth/two-factor/verify-totp`), the same flow
 * and the same load, one app after the other on the same redis-server.
 *
 *   `npm run bench:peer` (= `tsx bench/peer.ts`) alone, or section 5 of `npm run bench`.
 *
 * Per app, in its own child process: prepare the users (not measured:
 * sign-up, 2FA enrolment, then a password sign-in that now waits for the
 * second factor), verify a few warm-up users, then the measured
 * phase: every user sends one valid TOTP code, `connections` at a time
 * (autocannon, bench/load.ts). The app's CPU is its process.cpuUsage() delta
 * over that phase.
 *
 * The peer app is bench/peer/server.mjs with its own pinned install
 * (bench/peer/package.json), made here with `npm ci` when missing.
 * BENCH_QUICK=1 shortens the run; BENCH_SERVER_NODE_ARGS adds node flags to
 * both app processes (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"; the
 * measured phase's monotonic-clock window is logged for slicing profiles).
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { startRedis, type RedisProcess } from '../test/support/redis-server.ts';
import { generateCode, SecretBox, twoFactor } from '../src/index.ts';
import { createRedisClient } from '../src/redis/index.ts';
import { enrolUsers, type BenchContext } from './context.ts';
import { closeHttpAgent, httpRequest, latencySummary, pool, runLoad, sessionCookie, statusSummary, type HttpReply, type LoadResult } from './load.ts';
import { countCommands, versionOf, type StatsDelta } from './redis-stats.ts';
import { fixed, heading, int, machine, ms, table } from './report.ts';
import type { FromServer, ToServer } from './server-process.ts';
import { clientIp, isVerified, loginUsers } from './verification.ts';

const PEER_DIR = fileURLToPath(new URL('./peer/', import.meta.url));
const PERIOD_MS = 30_000;
const STEP_END_MARGIN_MS = 3_000;
const PASSWORD = 'bench-password-1';

export interface SideBySideConfig {
  users: number;
  warmupUsers: number;
  connections: number;
  /** Concurrency of the (unmeasured) preparation requests. */
  prepConcurrency: number;
}

export const SIDE_BY_SIDE = (quick: boolean): SideBySideConfig => (quick
  ? { users: 300, warmupUsers: 50, connections: 32, prepConcurrency: 16 }
  : { users: 2000, warmupUsers: 200, connections: 32, prepConcurrency: 16 });

export interface AppRun {
  app: string;
  pid: number | undefined;
  prepSeconds: number;
  users: number;
  load: LoadResult;
  /** Responses with status 200 and the app's success body. */
  verified: number;
  cpuMicros: number;
  redis: StatsDelta;
}

interface Verifier { secret: string; cookie: string; ip: string }

interface AppServer {
  pid: number | undefined;
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

type ChildMessage = FromServer | { type: 'ready'; port: number };

const serverNodeArgs = (): string[] => process.env['BENCH_SERVER_NODE_ARGS']?.split(' ').filter(Boolean) ?? [];

/** Forks an app server that speaks bench/server-process.ts's IPC protocol; resolves with its ready message. */
function startAppServer(script: string, execArgv: string[], init: object): Promise<{ server: AppServer; ready: ChildMessage & { type: 'ready' } }> {
  const c: ChildProcess = fork(script, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 0;
  const waiting = new Map<number, (micros: number) => void>();
  const server: AppServer = {
    pid: c.pid,
    cpuMicros: () => new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      c.send({ type: 'cpu', id } satisfies ToServer);
    }),
    async stop() {
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.send({ type: 'stop' } satisfies ToServer);
      const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(c);
  c.once('exit', () => live.delete(c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 30 s`)), 30_000);
    c.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve({ server, ready: m });
      } else if (m.type === 'cpu') {
        waiting.get(m.id)?.(m.userMicros + m.systemMicros);
        waiting.delete(m.id);
      } else if (m.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`${script}: ${m.message}`));
      }
    });
    c.once('exit', (code) => reject(new Error(`${script} exited (${code})`)));
    c.send(init);
  });
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** Installs the peer app's pinned dependencies the first time. */
export function ensurePeerInstalled(log: (m: string) => void): void {
  if (existsSync(`${PEER_DIR}node_modules`)) return;
  log('installing the peer app: npm ci --prefix bench/peer');
  execFileSync('npm', ['ci', '--prefix', PEER_DIR, '--no-audit', '--no-fund'], { stdio: ['ignore', 2, 2] });
}

export function peerVersions(): Record<string, string> {
  const installed = (name: string): string => (JSON.parse(readFileSync(`${PEER_DIR}node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
  return Object.fromEntries(['better-auth', '@better-auth/redis-storage', 'ioredis'].map((n) => [n, installed(n)]));
}

/** Near the end of a 30 s step, wait for the next one. */
async function awayFromStepEnd(): Promise<void> {
  const into = Date.now() % PERIOD_MS;
  if (into > PERIOD_MS - STEP_END_MARGIN_MS) await new Promise((r) => setTimeout(r, PERIOD_MS - into + 20));
}

const monotonicMicros = (): bigint => process.hrtime.bigint() / 1000n;

/**
 * One valid code per verifier, `connections` at a time; the code is computed
 * when autocannon builds the request.
 */
async function verificationPhase(
  o: { url: string; path: string; headers: Record<string, string>; connections: number; verifiers: Verifier[]; ok: (status: number, body: string) => boolean },
): Promise<{ load: LoadResult; verified: number }> {
  let next = 0;
  let verified = 0;
  const requests: autocannon.Request[] = [{
    method: 'POST',
    path: o.path,
    setupRequest: (req) => {
      const v = o.verifiers[next++];
      if (!v) throw new Error('more requests than verifiers');
      return {
        ...req,
        headers: { ...req.headers, ...o.headers, cookie: v.cookie, 'x-forwarded-for': v.ip, accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify({ code: generateCode(v.secret, Date.now()) }),
      };
    },
    onResponse: (status, body) => {
      if (o.ok(status, body)) verified++;
    },
  }];
  const load = await runLoad({ url: o.url, connections: o.connections, amount: o.verifiers.length, requests });
  return { load, verified };
}

/** Warm-up, then the measured phase with the app's CPU and Redis commands around it. */
async function measure(
  app: string, server: AppServer, admin: Redis, cfg: SideBySideConfig, log: (m: string) => void,
  o: { url: string; path: string; headers: Record<string, string>; ok: (status: number, body: string) => boolean; verifiers: Verifier[]; prepSeconds: number },
): Promise<AppRun> {
  const warm = o.verifiers.slice(0, cfg.warmupUsers);
  const measured = o.verifiers.slice(cfg.warmupUsers);
  await awayFromStepEnd();
  const w = await verificationPhase({ ...o, connections: cfg.connections, verifiers: warm });
  if (w.verified !== warm.length) throw new Error(`${app} warm-up: ${w.verified} of ${warm.length} verified (${statusSummary(w.load)})`);
  await awayFromStepEnd();
  let phase: { load: LoadResult; verified: number } | undefined;
  const cpuBefore = await server.cpuMicros();
  const from = monotonicMicros();
  const redis = await countCommands(admin, async () => {
    phase = await verificationPhase({ ...o, connections: cfg.connections, verifiers: measured });
  });
  const to = monotonicMicros();
  const cpuMicros = (await server.cpuMicros()) - cpuBefore;
  log(`  ${app}: measured phase at monotonic µs ${from}–${to} (pid ${server.pid})`);
  if (!phase) throw new Error('no load result');
  return { app, pid: server.pid, prepSeconds: o.prepSeconds, users: measured.length, load: phase.load, verified: phase.verified, cpuMicros, redis };
}

/**
 * This package: the `verify` app of bench/server-process.ts (koa-session on
 * Redis → bodyparser → passport-like user → tf.gate → tf.routes → router).
 * The user exists; enrolment through `tf.service`; sign-in = POST /login.
 */
async function runOurs(redisUrl: string, admin: Redis, cfg: SideBySideConfig, log: (m: string) => void): Promise<AppRun> {
  const encryptionKeys = `b1:${SecretBox.randomKey()}`;
  const tfRedis = createRedisClient(redisUrl);
  await new Promise<void>((resolve) => (tfRedis.status === 'ready' ? resolve() : tfRedis.once('ready', () => resolve())));
  const { server, ready } = await startAppServer(
    fileURLToPath(new URL('./server-process.ts', import.meta.url)),
    ['--import', 'tsx', ...serverNodeArgs()],
    { type: 'init', redisUrl, encryptionKeys } satisfies ToServer,
  );
  try {
    if (!('ports' in ready)) throw new Error('app server: no ports');
    const ctx: BenchContext = {
      redisUrl, admin, ports: ready.ports,
      tf: twoFactor({ issuer: 'bench', redis: tfRedis, encryptionKeys, logger: () => {} }),
      url: (a) => `http://127.0.0.1:${ready.ports[a]}`,
      serverCpuMicros: () => server.cpuMicros(),
    };
    const started = performance.now();
    const uids = Array.from({ length: cfg.warmupUsers + cfg.users }, (_, i) => `side-${i + 1}`);
    const secrets = await enrolUsers(ctx, uids, cfg.prepConcurrency);
    const verifiers = await loginUsers(ctx, uids.map((uid, i) => ({ uid, secret: secrets.get(uid)!, ip: clientIp(i + 1) })));
    const prepSeconds = (performance.now() - started) / 1000;
    log(`  koa-two-factor: ${uids.length} users prepared in ${prepSeconds.toFixed(1)} s`);
    return await measure('koa-two-factor', server, admin, cfg, log, {
      url: ctx.url('verify'), path: '/2fa/verify', headers: {}, ok: isVerified, verifiers, prepSeconds,
    });
  } finally {
    await server.stop();
    tfRedis.disconnect();
  }
}

function expectStatus(step: string, r: HttpReply, status = 200): void {
  if (r.status !== status) throw new Error(`peer ${step}: ${r.status} ${r.body.slice(0, 300)}`);
}

/**
 * better-auth (bench/peer/server.mjs): sign-up (which signs in), enable 2FA
 * with that session (password again; returns the TOTP URI), verify one code
 * to activate it, then a fresh password sign-in without cookies, which now
 * answers `twoFactorRedirect` and sets the two-factor challenge cookie that
 * the measured request carries.
 */
async function runPeer(redisUrl: string, admin: Redis, cfg: SideBySideConfig, log: (m: string) => void): Promise<AppRun> {
  const { server, ready } = await startAppServer(`${PEER_DIR}server.mjs`, serverNodeArgs(), { type: 'init', redisUrl });
  try {
    if (!('port' in ready)) throw new Error('peer server: no port');
    const port = ready.port;
    const origin = `http://127.0.0.1:${port}`;
    const post = (path: string, ip: string, body: unknown, cookie?: string): Promise<HttpReply> =>
      httpRequest(port, 'POST', `/api/auth${path}`, { origin, 'x-forwarded-for': ip, ...(cookie ? { cookie } : {}) }, body);
    const started = performance.now();
    const users = Array.from({ length: cfg.warmupUsers + cfg.users }, (_, i) => ({ email: `side-${i + 1}@bench.invalid`, ip: clientIp(i + 1) }));
    // All sign-ups first: each one is a transaction of the in-memory adapter,
    // which copies and compares the whole database, so it costs less while
    // the twoFactor table is still empty.
    const cookies = await pool(users, cfg.prepConcurrency, async (u) => {
      const up = await post('/sign-up/email', u.ip, { name: u.email, email: u.email, password: PASSWORD });
      expectStatus('sign-up', up);
      return sessionCookie(up);
    });
    log(`  better-auth: ${users.length} sign-ups in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const secrets = await pool(users, cfg.prepConcurrency, async (u, i) => {
      const enable = await post('/two-factor/enable', u.ip, { password: PASSWORD }, cookies[i]);
      expectStatus('enable', enable);
      const secret = new URL((JSON.parse(enable.body) as { totpURI: string }).totpURI).searchParams.get('secret');
      if (!secret) throw new Error(`peer enable: no secret in ${enable.body.slice(0, 200)}`);
      expectStatus('activate', await post('/two-factor/verify-totp', u.ip, { code: generateCode(secret, Date.now()) }, cookies[i]));
      return secret;
    });
    // Challenges expire after 10 min: sign in last.
    const verifiers = await pool(users, cfg.prepConcurrency, async (u, i): Promise<Verifier> => {
      const r = await post('/sign-in/email', u.ip, { email: u.email, password: PASSWORD });
      expectStatus('sign-in', r);
      if (!r.body.includes('"twoFactorRedirect":true')) throw new Error(`peer sign-in: no second factor asked: ${r.body.slice(0, 200)}`);
      return { secret: secrets[i]!, cookie: sessionCookie(r), ip: u.ip };
    });
    const prepSeconds = (performance.now() - started) / 1000;
    log(`  better-auth: ${users.length} users prepared in ${prepSeconds.toFixed(1)} s`);
    return await measure('better-auth', server, admin, cfg, log, {
      url: origin, path: '/api/auth/two-factor/verify-totp', headers: { origin }, verifiers, prepSeconds,
      ok: (status, body) => status === 200 && body.includes('"token"'),
    });
  } finally {
    await server.stop();
  }
}

/** Both apps, one after the other, on a flushed Redis each time (the bench's own redis-server). */
export async function sideBySide(redisUrl: string, admin: Redis, cfg: SideBySideConfig, log: (m: string) => void): Promise<AppRun[]> {
  ensurePeerInstalled(log);
  const runs: AppRun[] = [];
  await admin.flushall();
  runs.push(await runOurs(redisUrl, admin, cfg, log));
  await admin.flushall();
  runs.push(await runPeer(redisUrl, admin, cfg, log));
  await admin.flushall();
  return runs;
}

export const runOk = (r: AppRun): boolean => r.verified === r.users && r.load.requests === r.users && r.load.errors === 0;

export const verificationsPerSecond = (r: AppRun): number => r.load.requests / r.load.seconds;

/** ours ÷ peer, verifications/s. */
export function throughputRatio(runs: AppRun[]): number {
  const [ours, peer] = runs;
  return ours && peer ? verificationsPerSecond(ours) / verificationsPerSecond(peer) : NaN;
}

export function printSideBySide(runs: AppRun[], cfg: SideBySideConfig): void {
  const v = peerVersions();
  console.log(`${int(cfg.users)} users per app, each verifying once with a valid code, ${cfg.connections} connections (autocannon), after ${int(cfg.warmupUsers)} warm-up verifications. Sessions on the same redis-server, flushed between the apps; each app alone in its own process. Peer: better-auth ${v['better-auth']} with its two-factor plugin, @better-auth/redis-storage ${v['@better-auth/redis-storage']} on ioredis ${v['ioredis']} (secondary storage), rate limiter off, in-memory adapter.\n`);
  console.log(table(['app', 'verifications', '200 + success body', 'verifications/s', 'p50', 'p99', 'app CPU µs/verification', 'Redis cmds/verification (Lua included)', 'prep (not measured)'], runs.map((r) => {
    const l = latencySummary(r.load);
    return [r.app, int(r.users), `${int(r.verified)}${runOk(r) ? '' : ` FAILED (${statusSummary(r.load)})`}`, int(verificationsPerSecond(r)), ms(l.p50), ms(l.p99), fixed(r.cpuMicros / r.users, 0), fixed(r.redis.calls / r.users, 2), `${r.prepSeconds.toFixed(1)} s`];
  })));
  const [ours, peer] = runs;
  if (ours && peer) {
    console.log(`\nours ÷ peer: **${fixed(throughputRatio(runs), 1)}×** the verifications/s, ${fixed(peer.cpuMicros / peer.users / (ours.cpuMicros / ours.users), 1)}× less app CPU per verification.`);
  }
  const per = (r: AppRun): string => r.redis.byCommand.map(([n, c]) => `${n} ${fixed(c.calls / r.users, 2)}`).join(', ');
  console.log('\nRedis commands per verification (INFO commandstats; commands run inside Lua scripts count too):');
  for (const r of runs) console.log(`- ${r.app}: ${per(r)}`);
}

// ---------------------------------------------------------------------------
// `npm run bench:peer`

async function main(): Promise<void> {
  const quick = process.env['BENCH_QUICK'] === '1';
  const cfg = SIDE_BY_SIDE(quick);
  const log = (m: string): void => console.error(m);
  const started = performance.now();
  const loadAtStart = loadAvg();
  let redis: RedisProcess | undefined;
  let admin: Redis | undefined;
  let failed = false;
  try {
    ensurePeerInstalled(log);
    redis = await startRedis();
    admin = new Redis(redis.url);
    console.log('# Side by side: koa-two-factor and better-auth\'s two-factor plugin\n');
    console.log(`command: \`npm run bench:peer\` (= \`tsx bench/peer.ts\`)${quick ? ' with BENCH_QUICK=1 (shortened: not for numbers)' : ''}`);
    console.log(`date: ${new Date().toISOString()}`);
    const machineRows = machine(await versionOf(admin));
    const runs = await sideBySide(redis.url, admin, cfg, log);
    heading('Machine');
    console.log(table(['', ''], [...machineRows, ['load average 1/5/15 min', `${loadAtStart} at start, ${loadAvg()} at the end`]]));
    heading('Verification, side by side');
    printSideBySide(runs, cfg);
    const ratio = throughputRatio(runs);
    console.log(`\nTarget ≥ 10× the peer's verifications/s: ${fixed(ratio, 1)}× — ${ratio >= 10 ? 'met' : 'NOT met'}.`);
    failed = !runs.every(runOk);
    if (failed) console.log('\nRUN FAILED: some verifications did not answer 200 with the success body (see the table).');
  } catch (err) {
    failed = true;
    console.error(err);
  } finally {
    admin?.disconnect();
    closeHttpAgent();
    await redis?.stop();
    console.log(`\nTotal ${((performance.now() - started) / 1000).toFixed(1)} s.`);
    process.exitCode = failed ? 1 : 0;
  }
}

const loadAvg = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' / ');

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
