/**
 * What Redis says about itself: INFO commandstats deltas (commands per
 * request), INFO memory, the keys the package writes with their TTLs, and
 * a MONITOR sample that tells client commands from the ones run inside Lua.
 */
import { Redis } from 'ioredis';

export interface CommandCount { calls: number; usec: number }
export type CommandStats = Map<string, CommandCount>;

/** Commands the benchmark itself sends while measuring (never the app's). */
const MEASUREMENT_COMMANDS = new Set(['info', 'monitor', 'scan', 'pttl', 'memory', 'dbsize', 'client', 'config', 'ping', 'select']);

export async function commandStats(redis: Redis): Promise<CommandStats> {
  const text = await redis.info('commandstats');
  const stats: CommandStats = new Map();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    stats.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return stats;
}

export interface StatsDelta {
  byCommand: [string, CommandCount][];
  calls: number;
  usec: number;
}

/** after − before, without the benchmark's own measuring commands, largest first. */
export function diffStats(before: CommandStats, after: CommandStats): StatsDelta {
  const byCommand: [string, CommandCount][] = [];
  let calls = 0;
  let usec = 0;
  for (const [name, a] of after) {
    if (MEASUREMENT_COMMANDS.has(name)) continue;
    const b = before.get(name) ?? { calls: 0, usec: 0 };
    const d = { calls: a.calls - b.calls, usec: a.usec - b.usec };
    if (d.calls <= 0) continue;
    byCommand.push([name, d]);
    calls += d.calls;
    usec += d.usec;
  }
  byCommand.sort((x, y) => y[1].calls - x[1].calls);
  return { byCommand, calls, usec };
}

/** Counts commands over `work`. */
export async function countCommands(redis: Redis, work: () => Promise<void>): Promise<StatsDelta> {
  const before = await commandStats(redis);
  await work();
  return diffStats(before, await commandStats(redis));
}

export async function usedMemory(redis: Redis): Promise<number> {
  const text = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(text)?.[1] ?? NaN);
}

/** Samples used_memory every `everyMs` until stopped; returns the peak seen. */
export function pollMemory(redis: Redis, everyMs = 200): { stop(): Promise<{ peak: number; samples: number }> } {
  let peak = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await usedMemory(redis));
      samples++;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { peak, samples };
    },
  };
}

export async function versionOf(redis: Redis): Promise<string> {
  return /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1] ?? '?';
}

/** Average `MEMORY USAGE` (bytes, exact: SAMPLES 0) over some keys. */
export async function averageKeySize(redis: Redis, keys: string[]): Promise<number> {
  if (keys.length === 0) return NaN;
  const p = redis.pipeline();
  for (const k of keys) p.call('MEMORY', 'USAGE', k, 'SAMPLES', '0');
  const sizes = ((await p.exec()) ?? []).map(([err, v]) => (err ? NaN : Number(v)));
  return sizes.reduce((a, b) => a + b, 0) / sizes.length;
}

export const KEY_CLASSES = [
  { name: 'record', pattern: '2fa:{<user>}:record', test: /^2fa:\{[^}]*\}:record$/, expectTtl: false },
  { name: 'steps', pattern: '2fa:{<user>}:steps', test: /^2fa:\{[^}]*\}:steps$/, expectTtl: true },
  { name: 'fail', pattern: '2fa:{<user>}:fail', test: /^2fa:\{[^}]*\}:fail$/, expectTtl: true },
  { name: 'ip', pattern: '2fa:ip:{<ip>}', test: /^2fa:ip:\{[^}]*\}$/, expectTtl: true },
  { name: 'enrol', pattern: '2fa:{<user>}:enrol:<id>', test: /^2fa:\{[^}]*\}:enrol:.+$/, expectTtl: true },
  { name: 'policy', pattern: '2fa:policy', test: /^2fa:policy$/, expectTtl: false },
  { name: 'session', pattern: 'sess:<id> (the app\'s session store)', test: /^sess:/, expectTtl: true },
] as const;

export interface KeyClassReport {
  name: string;
  pattern: string;
  expectTtl: boolean;
  keys: number;
  withTtl: number;
  noTtl: number;
  minPttl: number;
  maxPttl: number;
  /** A few key names, for MEMORY USAGE. */
  sample: string[];
}

/** SCANs every key once and PTTLs it; classifies by the patterns above. */
export async function keyTtlReport(redis: Redis): Promise<{ classes: KeyClassReport[]; other: number }> {
  const classes: KeyClassReport[] = KEY_CLASSES.map((c) => ({
    name: c.name, pattern: c.pattern, expectTtl: c.expectTtl, keys: 0, withTtl: 0, noTtl: 0, minPttl: Infinity, maxPttl: -Infinity, sample: [],
  }));
  let other = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 2000);
    cursor = next;
    const p = redis.pipeline();
    for (const k of keys) p.pttl(k);
    const ttls = (await p.exec()) ?? [];
    keys.forEach((k, i) => {
      const idx = KEY_CLASSES.findIndex((c) => c.test.test(k));
      if (idx < 0) { other++; return; }
      const c = classes[idx]!;
      const pttl = Number(ttls[i]?.[1]);
      c.keys++;
      if (pttl > 0) {
        c.withTtl++;
        c.minPttl = Math.min(c.minPttl, pttl);
        c.maxPttl = Math.max(c.maxPttl, pttl);
      } else if (pttl === -1) c.noTtl++;
      if (c.sample.length < 200) c.sample.push(k);
    });
  } while (cursor !== '0');
  return { classes, other };
}

export interface MonitoredCommand { source: 'client' | 'lua'; command: string; keyClass: string }

export function classifyKey(key: string | undefined): string {
  if (key === undefined) return '-';
  return KEY_CLASSES.find((c) => c.test.test(key))?.name ?? 'other';
}

/**
 * Runs `work` while a MONITOR connection records every command, then
 * returns them (with whether they came from a client or from a Lua script,
 * and which kind of key they touched). MONITOR slows Redis down: only for
 * small, unmeasured samples.
 */
export async function monitorCommands(url: string, work: () => Promise<void>): Promise<MonitoredCommand[]> {
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  const monitor = await client.monitor();
  const seen: MonitoredCommand[] = [];
  let active = false;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (!active) return;
    const command = (args[0] ?? '').toLowerCase();
    if (MEASUREMENT_COMMANDS.has(command)) return;
    // EVALSHA sha numkeys key…: the first key is the 4th argument.
    const key = command === 'evalsha' || command === 'eval' ? args[3] : args[1];
    seen.push({ source: source === 'lua' ? 'lua' : 'client', command, keyClass: classifyKey(key) });
  });
  // MONITOR lines arrive asynchronously: settle before and after the work.
  await new Promise((r) => setTimeout(r, 100));
  active = true;
  await work();
  await new Promise((r) => setTimeout(r, 300));
  active = false;
  monitor.disconnect();
  client.disconnect();
  return seen;
}
