/**
 * Hand-written mutants, for what Stryker cannot or does not mutate:
 *
 * - `npm run test:mutation:lua`: the Lua in src/stores/redis-scripts.ts,
 *   which Stryker sees as string literals only. Each mutant is one change to
 *   one script of the kind Stryker makes in TypeScript (a comparison flipped
 *   or loosened, a guard dropped, an off-by-one, a constant changed), run
 *   against the tests that drive the Redis stores.
 * - `npm run test:mutation:known`: the defects issue 11 named as surviving
 *   the suite once (CSRF, return-to, gate prefix, publicPaths); several are
 *   not among Stryker's mutators (`===` → `startsWith`, a guard added).
 *
 * For each mutant a copy of the project (under .stryker-tmp/) gets the
 * mutated file and its group's tests run against it (mocha --bail): a
 * failing run kills the mutant. The unmutated copy must pass first. Results:
 * the table on stdout and reports/hand-mutants-<group>.json; docs/testing.md
 * lists them. Exit code 1 when a mutant survives.
 *
 *   tsx scripts/hand-mutants.ts lua|known [SCRIPT…]   (SCRIPT: e.g. ATTEMPT)
 *   tsx scripts/hand-mutants.ts lua|known --list      only check that each applies
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

interface HandMutant {
  /** For the Lua group: the script constant, e.g. ATTEMPT, or `startOver` (the Lua function spliced into ATTEMPT and SUCCESS). For the known group: the file. */
  script: string;
  /** Exact text inside that script, replaced once. */
  from: string;
  to: string;
  /** What the mutant would let through. */
  means: string;
}

export const LUA_MUTANTS: HandMutant[] = [
  // ATTEMPT: lock, hard cap, replay, counting, lockout and backoff.
  { script: 'ATTEMPT', from: "if lu > now then return {'locked'", to: "if lu > now + 1000000000000 then return {'locked'", means: 'a locked-out user is judged anyway' },
  // Equivalent (times are integer ms: `lu >= now + 1` is `lu > now`); kept as a check of the runner.
  { script: 'ATTEMPT', from: 'if lu > now then', to: 'if lu >= now + 1 then', means: 'the lock ends one ms early (equivalent: integer ms)' },
  { script: 'ATTEMPT', from: "if ARGV[10] == '1' and c >= tonumber(ARGV[7])", to: "if ARGV[10] == '1' and c > tonumber(ARGV[7])", means: 'one more TOTP guess past the hard cap' },
  { script: 'ATTEMPT', from: "if ARGV[10] == '1' and c >= tonumber(ARGV[7])", to: 'if c >= tonumber(ARGV[7])', means: 'the hard cap blocks backup codes too' },
  { script: 'ATTEMPT', from: "if ARGV[10] == '1' and c >= tonumber(ARGV[7]) then return {'capped', 0} end", to: '', means: 'no hard cap' },
  { script: 'ATTEMPT', from: 'if last == nil or step > last then', to: 'if last == nil or step >= last then', means: 'a code replayed in its own time step is accepted' },
  { script: 'ATTEMPT', from: 'if last == nil or step > last then', to: 'if true then', means: 'any replay is accepted' },
  { script: 'ATTEMPT', from: "redis.call('PEXPIRE', KEYS[1], ARGV[2])", to: "redis.call('PERSIST', KEYS[1])", means: 'the replay state never expires' },
  { script: 'ATTEMPT', from: "if ARGV[9] ~= '1' then return {'rejected', 0} end", to: '', means: 'a failure is counted where the caller said not to' },
  { script: 'ATTEMPT', from: 'if now - ws >= tonumber(ARGV[4]) then', to: 'if now - ws > tonumber(ARGV[4]) then', means: 'the counting window lasts one ms longer' },
  { script: 'ATTEMPT', from: 'if now - ws >= tonumber(ARGV[4]) then ws = now; n = 0 end', to: '', means: 'the counting window never restarts' },
  { script: 'ATTEMPT', from: 'n = n + 1', to: 'n = n + 0', means: 'failures in the window are not counted' },
  { script: 'ATTEMPT', from: 'c = c + 1', to: 'c = c + 0', means: 'consecutive failures (hard cap) are not counted' },
  { script: 'ATTEMPT', from: 'if n >= tonumber(ARGV[3]) then', to: 'if n > tonumber(ARGV[3]) then', means: 'one more guess before the lockout' },
  { script: 'ATTEMPT', from: 'k = k + 1', to: 'k = 1', means: 'no backoff: every lockout is the first' },
  { script: 'ATTEMPT', from: '2 ^ (k - 1)', to: '2 ^ (k - 2)', means: 'lockouts half as long' },
  { script: 'ATTEMPT', from: 'math.min(tonumber(ARGV[5]) * 2 ^ (k - 1), tonumber(ARGV[6]))', to: 'tonumber(ARGV[5]) * 2 ^ (k - 1)', means: 'no maximum lockout' },
  { script: 'ATTEMPT', from: '  ws = lu\n', to: '  ws = now\n', means: 'the window after a lockout starts at the lockout, not after it' },
  { script: 'ATTEMPT', from: '  n = 0\nend', to: 'end', means: 'the window is not emptied by a lockout' },
  { script: 'ATTEMPT', from: "redis.call('PEXPIRE', KEYS[2], ARGV[8])\nreturn {'rejected', lock}", to: "return {'rejected', lock}", means: 'the failure state never expires' },
  { script: 'ATTEMPT', from: "      redis.call('HSET', KEYS[4], 'u:' .. ARGV[i], ARGV[1])\n", to: '', means: 'the last use is reported written but is not' },
  // startOver (spliced into ATTEMPT and SUCCESS): what a success forgets.
  { script: 'startOver', from: 'if ${k} > 0 then', to: 'if ${k} > 1 then', means: 'a success after one lockout forgets the backoff' },
  { script: 'startOver', from: "'ws', 0, 'n', 0, 'c', 0, 'lu', 0", to: "'ws', 0, 'n', 0, 'lu', 0", means: 'a success does not restart the hard-cap count' },
  { script: 'startOver', from: "redis.call('PEXPIRE', ${key}, ${memory})", to: "redis.call('PERSIST', ${key})", means: 'the kept lockout count never expires' },
  // REFUND: taking one failure back.
  { script: 'REFUND', from: "if (tonumber(redis.call('HGET', KEYS[1], 'c')) or 0) > 0 then redis.call('HINCRBY', KEYS[1], 'c', -1) end", to: '', means: 'a refund leaves the hard-cap count' },
  { script: 'REFUND', from: "(tonumber(redis.call('HGET', KEYS[1], 'c')) or 0) > 0", to: 'true', means: 'the hard-cap count can go below zero' },
  { script: 'REFUND', from: "tonumber(redis.call('HGET', KEYS[1], 'lu')) == tonumber(ARGV[1])", to: 'true', means: 'a refund lifts a lockout it did not start' },
  { script: 'REFUND', from: "'k', math.max(0, k - 1)", to: "'k', k", means: 'a lifted lockout still counts for the backoff' },
  { script: 'REFUND', from: "'n', tonumber(ARGV[3]) - 1", to: "'n', 0", means: 'a lifted lockout leaves a whole window of guesses' },
  { script: 'REFUND', from: "if (tonumber(redis.call('HGET', KEYS[1], 'n')) or 0) > 0 then redis.call('HINCRBY', KEYS[1], 'n', -1) end", to: '', means: 'a refund leaves the window count' },
  // IP_ATTEMPT / IP_REFUND: the per-IP limit.
  { script: 'IP_ATTEMPT', from: 'if n >= tonumber(ARGV[1]) then', to: 'if n > tonumber(ARGV[1]) then', means: 'one more attempt per address' },
  { script: 'IP_ATTEMPT', from: "redis.call('INCR', KEYS[1])", to: "redis.call('GET', KEYS[1])", means: 'attempts are not counted' },
  { script: 'IP_ATTEMPT', from: "if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end", to: '', means: 'the address window never ends' },
  { script: 'IP_ATTEMPT', from: "  if ttl == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end\n", to: '', means: 'a counter left without TTL blocks the address for good' },
  { script: 'IP_ATTEMPT', from: 'return math.max(ttl, 1)', to: 'return 0', means: 'a refused attempt is reported as counted' },
  { script: 'IP_REFUND', from: "if n > 1 then redis.call('DECR', KEYS[1])", to: "if n > 1 then redis.call('GET', KEYS[1])", means: 'a right answer still uses up the address budget' },
  { script: 'IP_REFUND', from: "elseif n == 1 then redis.call('DEL', KEYS[1]) end", to: 'end', means: 'the last attempt is never taken back' },
  // ADD_DEVICE / REMOVE_DEVICE / SET_DEVICE_FIELD / REPLACE_FIELDS: the record.
  { script: 'ADD_DEVICE', from: 'if not exists and devices >= tonumber(ARGV[2]) then', to: 'if not exists and devices > tonumber(ARGV[2]) then', means: 'one device more than maxDevices' },
  { script: 'ADD_DEVICE', from: 'if not exists and devices >= tonumber(ARGV[2]) then', to: 'if devices >= tonumber(ARGV[2]) then', means: 're-adding a linked id is refused when full' },
  { script: 'ADD_DEVICE', from: "if devices == 0 then return 'added-first' end", to: '', means: 'the first device is not reported (no backup codes, no generation bump)' },
  { script: 'ADD_DEVICE', from: "if ARGV[7] == '' then redis.call('HDEL', KEYS[1], 'u:' .. id) else", to: "if ARGV[7] == '' then else", means: 'a re-added id inherits the old last use' },
  { script: 'REMOVE_DEVICE', from: "if devices == 1 and ARGV[2] == '1' then return 'kept-last' end", to: '', means: 'the last device can be removed where it must be kept' },
  { script: 'REMOVE_DEVICE', from: "if devices > 1 then return 'removed' end", to: "if devices > 0 then return 'removed' end", means: 'removing the last device keeps the backup codes' },
  { script: 'REMOVE_DEVICE', from: "if string.sub(f, 1, 2) == 'b:' then redis.call('HDEL', KEYS[1], f) end", to: '', means: 'backup codes outlive the last device' },
  { script: 'SET_DEVICE_FIELD', from: "if redis.call('HEXISTS', KEYS[1], 't:' .. ARGV[1]) == 0 then return 0 end", to: '', means: 'a removed device gets a name or last use back' },
  { script: 'REPLACE_FIELDS', from: "if string.sub(field, 1, #p) == p then redis.call('HDEL', KEYS[1], field) end", to: '', means: 'old backup codes stay valid after regeneration' },
];

/** The defects issue 11 listed as once surviving the suite. */
export const KNOWN_MUTANTS: HandMutant[] = [
  { script: 'src/core/http/csrf.ts', from: "if (sent && typeof expected === 'string' && equal(sent, expected)) return;", to: 'if (sent) return;', means: 'CSRF accepts any non-empty token' },
  { script: 'src/core/http/csrf.ts', from: "if (site && site !== 'same-origin' && site !== 'none') return false;", to: "if (req.header('origin') && site && site !== 'same-origin' && site !== 'none') return false;", means: 'CSRF ignores Sec-Fetch-Site when no Origin is sent' },
  { script: 'src/core/http/return-to.ts', from: " || value.startsWith('/\\\\')", to: '', means: 'safeReturnTo no longer refuses /\\evil.example' },
  { script: 'src/core/http/routes/challenge.ts', from: 'redirectAnswer(returnTo ?? r.afterVerifyPath, 303)', to: 'redirectAnswer(String(body.returnTo ?? req.query.returnTo ?? r.afterVerifyPath), 303)', means: 'the verify route redirects to the raw returnTo after a right code' },
  { script: 'src/core/http/gate.ts', from: 'path.startsWith(`${prefix}/`)', to: 'path.startsWith(prefix)', means: 'the gate matches its prefix without the trailing /' },
  { script: 'src/core/http/gate.ts', from: "typeof p === 'string' ? p === path : p.test(path)", to: "typeof p === 'string' ? path.startsWith(p) : p.test(path)", means: 'publicPaths strings are matched as prefixes' },
];

/** The tests that run the Redis stores (the browser suites do not add any). */
const LUA_SPEC = [
  'test/stores',
  'test/security/failure-budget.test.ts',
  'test/security/lockout-memory-expiry.test.ts',
  'test/security/ip-limit.test.ts',
  'test/security/replay-race.test.ts',
  'test/security/device-limit.test.ts',
  'test/account/backup-codes.test.ts',
  'test/policy/admin-lockout.test.ts',
];
/** The HTTP and unit tests of CSRF, return-to, the gate and publicPaths. */
const KNOWN_SPEC = [
  'test/koa',
  'test/http',
  'test/examples',
  'test/security/step-up-csrf.test.ts',
  'test/security/csrf-step-up-forms.test.ts',
  'test/policy/step-up.test.ts',
];
const GROUPS = {
  lua: { mutants: LUA_MUTANTS, spec: LUA_SPEC },
  known: { mutants: KNOWN_MUTANTS, spec: KNOWN_SPEC },
};
const RUN_TIMEOUT_MS = 600_000;
const ROOT = resolve(import.meta.dirname, '..');
const LUA_FILE = 'src/stores/redis-scripts.ts';
/** The record store's scripts live beside the guard store's. */
const RECORD_SCRIPTS = new Set(['ADD_DEVICE', 'REMOVE_DEVICE', 'SET_DEVICE_FIELD', 'REPLACE_FIELDS']);
const RECORD_LUA_FILE = 'src/stores/redis-record-scripts.ts';

/** The text of one `export const NAME = script(`…`)` in the source. */
function scriptBody(source: string, name: string): { start: number; end: number } {
  const head = `export const ${name} = script(\``;
  const start = source.indexOf(head);
  if (start < 0) throw new Error(`no script ${name} in its file`);
  const end = source.indexOf('`);', start + head.length);
  return { start: start + head.length, end };
}

function fileOf(m: HandMutant): string {
  if (m.script.startsWith('src/')) return m.script;
  return RECORD_SCRIPTS.has(m.script) ? RECORD_LUA_FILE : LUA_FILE;
}

function mutate(source: string, m: HandMutant): string {
  const where = m.script.startsWith('src/') ? { start: 0, end: source.length } : m.script === 'startOver'
    ? { start: source.indexOf('function startOver('), end: source.indexOf('export const ATTEMPT') }
    : scriptBody(source, m.script);
  const body = source.slice(where.start, where.end);
  const at = body.indexOf(m.from);
  if (at < 0 || body.indexOf(m.from, at + 1) >= 0) throw new Error(`${m.script}: "${m.from}" must occur exactly once`);
  return source.slice(0, where.start) + body.slice(0, at) + m.to + body.slice(at + m.from.length) + source.slice(where.end);
}

function runTests(cwd: string, spec: string[]): Promise<{ ok: boolean; timedOut: boolean; ms: number; tail: string }> {
  const started = Date.now();
  return new Promise((done) => {
    const specs = spec.filter((p) => existsSync(join(cwd, p)));
    const child = spawn(process.execPath, ['--import', 'tsx', 'node_modules/mocha/bin/mocha.js', '--no-config', '--extension', 'ts', '--recursive', '--timeout', '20000', '--bail', '--reporter', 'dot', ...specs], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out = (out + d).slice(-4000); });
    child.stderr.on('data', (d) => { out = (out + d).slice(-4000); });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ ok: code === 0, timedOut: signal === 'SIGKILL', ms: Date.now() - started, tail: out.trim().split('\n').slice(-12).join('\n') });
    });
  });
}

function groupOf(): { name: keyof typeof GROUPS; mutants: HandMutant[]; spec: string[] } {
  const name = process.argv[2] as keyof typeof GROUPS;
  if (!(name in GROUPS)) throw new Error(`usage: tsx scripts/hand-mutants.ts ${Object.keys(GROUPS).join('|')} [SCRIPT…] [--list]`);
  const only = process.argv.slice(3).filter((a) => !a.startsWith('--'));
  const mutants = GROUPS[name].mutants.filter((m) => only.length === 0 || only.includes(m.script));
  // Every mutant must apply (its text occurs once) before any test runs.
  for (const m of mutants) mutate(readFileSync(join(ROOT, fileOf(m)), 'utf8'), m);
  return { name, mutants, spec: GROUPS[name].spec };
}

async function main(): Promise<void> {
  const { name, mutants, spec } = groupOf();

  const sandbox = join(ROOT, '.stryker-tmp', `lua-${process.pid}`);
  rmSync(sandbox, { recursive: true, force: true });
  mkdirSync(sandbox, { recursive: true });
  for (const entry of ['src', 'test', 'examples', 'views', 'package.json', 'tsconfig.json']) cpSync(join(ROOT, entry), join(sandbox, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(sandbox, 'node_modules'));
  try {
    const baseline = await runTests(sandbox, spec);
    if (!baseline.ok) throw new Error(`The unmutated tests fail; fix them first:\n${baseline.tail}`);
    console.log(`unmutated: tests pass in ${Math.round(baseline.ms / 1000)} s; ${mutants.length} mutants`);
    const results = [];
    for (const [i, m] of mutants.entries()) {
      const file = fileOf(m);
      const original = readFileSync(join(ROOT, file), 'utf8');
      writeFileSync(join(sandbox, file), mutate(original, m));
      const r = await runTests(sandbox, spec);
      writeFileSync(join(sandbox, file), original);
      const status = r.timedOut ? 'Timeout' : r.ok ? 'Survived' : 'Killed';
      // The first failing test: a kill should come from an assertion, not a timeout.
      const killedBy = r.ok ? undefined : (r.tail.match(/^\s*1\) .*(?:\n.*){0,3}/m)?.[0] ?? r.tail).replace(/\s+/g, ' ').trim().slice(0, 300);
      results.push({ ...m, status, seconds: Math.round(r.ms / 1000), ...(killedBy ? { killedBy } : {}) });
      console.log(`${String(i + 1).padStart(2)} ${status.padEnd(8)} ${m.script.padEnd(16)} ${m.means} (${Math.round(r.ms / 1000)} s)`);
      if (status === 'Survived') console.log(`   - ${m.from}\n   + ${m.to}`);
    }
    const killed = results.filter((r) => r.status !== 'Survived').length;
    console.log(`\n${name} mutation score: ${killed}/${results.length} = ${((100 * killed) / results.length).toFixed(1)} %`);
    mkdirSync(join(ROOT, 'reports'), { recursive: true });
    writeFileSync(join(ROOT, 'reports', `hand-mutants-${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
    if (results.some((r) => r.status === 'Survived')) process.exitCode = 1;
  } finally {
    rmSync(sandbox, { recursive: true, force: true });
  }
}

if (process.argv.includes('--list')) {
  const { name, mutants } = groupOf();
  console.log(`${mutants.length} ${name} mutants, each applies once`);
} else {
  await main();
}
