/** Section 1's tables (gate overhead, both adapters), and the ratios the targets use. */
import type { GateMiddlewareCost } from './gate-middleware-cost.ts';
import { describeCommands, type Adapter, type GateConfigResult, type GateOptions, type GateResult } from './gate-overhead.ts';
import { latencySummary, type LoadResult } from './load.ts';
import { fixed, heading, int, ms, pct, table } from './report.ts';

export interface GateRatio {
  adapter: Adapter;
  s: 'memory' | 'redis';
  median: number;
  min: number;
  max: number;
  pooled: number;
  p99: number;
  cpuW: number;
  cpuWo: number;
  /** The ratio of a CPU-bound app, from the in-process cost. */
  bound: number;
  /** Each round's with / without, in run order. */
  rounds: number[];
}

const rps = (l: LoadResult): number => l.requests / l.seconds;
const MOUNTED: Record<Adapter, string> = { koa: '`tf.gate` + `tf.routes`', express: '`tf.gate` + `tf.router`' };
const MICRO_FILE: Record<Adapter, string> = { koa: 'bench/gate-middleware-cost.ts', express: 'bench/express-gate-middleware-cost.ts' };

export function median(sortedAsc: number[]): number {
  const n = sortedAsc.length;
  return n % 2 ? sortedAsc[(n - 1) / 2]! : (sortedAsc[n / 2 - 1]! + sortedAsc[n / 2]!) / 2;
}

export function printGateSection(gate: GateResult, micro: Record<Adapter, GateMiddlewareCost>, o: GateOptions & { repetitions: number }): GateRatio[] {
  heading(`1. Gate overhead: GET /protected, ${o.users} verified sessions (cookies rotated), ${o.connections} connections`);
  console.log(`Each configuration: ${o.rounds} × ${o.roundSeconds} s, alternating with its pair, after a ${o.warmupSeconds} s warm-up. "without" = the same app minus the 2FA middleware (Koa: \`tf.gate\` and \`tf.routes\`; Express: \`tf.gate\` and \`tf.router\`). Koa pairs first, then the Express pairs (bench/express-apps.ts: express-session on the same stores, express.json).\n`);
  const row = (c: GateConfigResult): (string | number)[] => {
    const lat = latencySummary(c.load);
    return [c.adapter, c.sessions, c.gate ? 'with gate' : 'without', int(rps(c.load)), ms(lat.p50), ms(lat.p99), fixed(c.cpuMicros / c.load.requests, 0), fixed(c.redis.calls / c.load.requests, 3), describeCommands(c.redis, c.load.requests), int(c.load.requests)];
  };
  console.log(table(['adapter', 'sessions', 'gate', 'req/s', 'p50', 'p99', 'app CPU µs/req', 'Redis cmds/req', 'per request', 'requests'], gate.configs.map(row)));
  const ratios = gate.pairs.map((p): GateRatio => {
    const w = gate.configs.find((c) => c.adapter === p.adapter && c.sessions === p.sessions && c.gate)!;
    const wo = gate.configs.find((c) => c.adapter === p.adapter && c.sessions === p.sessions && !c.gate)!;
    const rounds = p.rounds.map((r) => r.withRps / r.withoutRps);
    const sorted = [...rounds].sort((a, b) => a - b);
    const cpuW = w.cpuMicros / w.load.requests;
    const cpuWo = wo.cpuMicros / wo.load.requests;
    return {
      adapter: p.adapter, s: p.sessions, median: median(sorted), min: sorted[0]!, max: sorted[sorted.length - 1]!, pooled: rps(w.load) / rps(wo.load),
      p99: latencySummary(w.load).p99 - latencySummary(wo.load).p99, cpuW, cpuWo, bound: cpuWo / (cpuWo + micro[p.adapter].addedMicros), rounds,
    };
  });
  console.log('');
  console.log(table(['adapter', 'sessions', 'with / without: median of rounds', 'range over rounds', 'pooled', 'app CPU µs/req with / without', 'CPU capacity with / without', 'p99 with − without'], ratios.map((r) => [
    r.adapter, r.s, pct(r.median), `${pct(r.min)} – ${pct(r.max)}`, pct(r.pooled), `${fixed(r.cpuW, 1)} / ${fixed(r.cpuWo, 1)}`, pct(r.cpuWo / r.cpuW), ms(r.p99),
  ])));
  console.log('\n"CPU capacity" = app CPU per request without ÷ with, from the same load runs: what the ratio would be if the app process alone were the bottleneck (CPU time per request also moves with contention for the 2 CPUs).');
  console.log(`\nWith / without of each round, in run order (%): ${ratios.map((r) => `${r.adapter} ${r.s}: ${r.rounds.map((x) => (x * 100).toFixed(1)).join(' ')}`).join('; ')}.`);
  for (const adapter of ['koa', 'express'] as const) {
    const m = micro[adapter];
    const mine = ratios.filter((r) => r.adapter === adapter);
    console.log(`\n${adapter === 'koa' ? 'Koa' : 'Express'}: the gate's own cost without the network (${MICRO_FILE[adapter]}: the middleware called in-process ${int(m.calls)} times on a verified session's ${adapter === 'koa' ? 'context' : 'real request'}, median of ${o.repetitions} repetitions against a no-op): **${fixed(m.addedMicros, 2)} µs per request** for ${MOUNTED[adapter]} (gate alone ${fixed(m.gateMicros, 2)} µs, the routes alone on a path outside the prefix ${fixed(m.routesMicros, 2)} µs), ${m.storeReads} store reads. Against the app's CPU per request without the gate, that bounds the throughput ratio of a CPU-bound app at ${mine.map((r) => `${pct(r.bound)} (${r.s} sessions)`).join(', ')}.`);
  }
  console.log(`\nRedis commands inside the state cache interval (${o.stateCacheMs / 1000} s): a fixed ${o.countRequests} requests right after the sessions verified (INFO commandstats before/after):\n`);
  console.log(table(['adapter', 'sessions', 'requests', 'since first verification', 'with gate', 'without', 'added by the gate'], gate.inCache.map((c) => [
    c.adapter, c.sessions, c.requests, `${(c.sinceVerifiedMs / 1000).toFixed(1)} s`, `${c.gated.calls} (${describeCommands(c.gated, c.requests)})`, `${c.plain.calls} (${describeCommands(c.plain, c.requests)})`, String(c.gated.calls - c.plain.calls),
  ])));
  console.log(`\nAfter the cache interval (the timed runs outlast it): ${gate.pairs.map((p) => `${p.adapter}, ${p.sessions} sessions: ${int(p.stateReads)} state reads (HGETALL record) for ${int(p.expiries)} session cache expiries = ${fixed(p.stateReads / Math.max(1, p.expiries), 1)} per expiry`).join('; ')}. 1.0 means a session's concurrent requests share one read when its cached state expires; more means each request that arrives while the read is in flight reads too.`);
  console.log(`\nSanity checks: ${gate.sanity.map((x) => x.replace(/ \{.*$/, '')).join('; ')}.`);
  return ratios;
}
