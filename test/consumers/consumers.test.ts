/**
 * The support matrix, for real (issue 13): the package as `npm pack` makes
 * it, installed from its tarball into throw-away apps written the way
 * existing apps are (test/consumers/apps), each started as its own Node
 * process and driven over HTTP like a person with a phone: log in, link an
 * authenticator, log out, log in, pass the code, reach the protected page.
 * Codes come from test/support/rfc6238.ts, not from the otplib the package uses.
 *
 * Installs run in parallel from the npm cache when it has the packages
 * (`--prefer-offline`); `npm run test:consumers` runs this file alone.
 */
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SecretBox } from '../../src/index.ts';
import { waitForTimeLeft } from '../support/clock.ts';
import { HttpClient } from '../support/http-client.ts';
import { buildStagedPackage, packStagedPackage, projectRoot } from '../support/package-stage.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';
import { totp } from '../support/rfc6238.ts';

const run = promisify(execFile);
const APPS = join(import.meta.dirname, 'apps');
const TSC = join(projectRoot, 'node_modules/typescript/bin/tsc');

interface Consumer {
  /** Directory under test/consumers/apps. */
  name: string;
  /** What the row of the README's support matrix says. */
  summary: string;
  /** Compiled with the project's tsc (`tsc -p .`) before it starts. */
  typescript: boolean;
  /** Node's entry file, after compiling. */
  main: string;
  /** Given a Redis of its own (REDIS_URL); every app gets keys (TWO_FACTOR_KEYS). */
  redis: boolean;
  /** Its Redis key prefix, when not the default (`2fa`): the Redis apps share one server. */
  keyPrefix?: string;
  /** Koa app (exactly one Koa installed) or Express app (no Koa at all). */
  framework: 'koa' | 'express';
  /** The 2FA routes' prefix. */
  prefix: string;
  /** Its login form's field for the user name. */
  usernameField: string;
  logout: { method: 'GET' | 'POST'; path: string };
  /** Where a successful login lands: the protected page. */
  home: string;
}

const CONSUMERS: Consumer[] = [
  {
    name: 'koa2-cjs', summary: 'Koa 2.16, koa-session 6, koa-passport 4, koa-router 12; CommonJS JavaScript',
    typescript: false, main: 'app.js', redis: false, framework: 'koa',
    prefix: '/2fa', usernameField: 'username', logout: { method: 'GET', path: '/logout' }, home: '/app',
  },
  {
    name: 'koa3-esm-ts', summary: 'Koa 3, koa-session 7, koa-passport 6, @koa/router; ES modules, TypeScript nodenext; ioredis 6',
    typescript: true, main: 'build/app.js', redis: true, framework: 'koa',
    prefix: '/2fa', usernameField: 'email', logout: { method: 'POST', path: '/logout' }, home: '/account',
  },
  {
    name: 'koa-ts-cjs', summary: 'Koa 3 in TypeScript compiled to CommonJS (node10 resolution); ./stores and ./redis; ioredis 5',
    typescript: true, main: 'build/app.js', redis: true, keyPrefix: 'consumer:', framework: 'koa',
    prefix: '/security/2fa', usernameField: 'username', logout: { method: 'POST', path: '/logout' }, home: '/home',
  },
  {
    name: 'express4-cjs', summary: 'Express 4, express-session, Passport 0.7; CommonJS JavaScript',
    typescript: false, main: 'app.js', redis: false, framework: 'express',
    prefix: '/2fa', usernameField: 'username', logout: { method: 'POST', path: '/logout' }, home: '/profile',
  },
  {
    name: 'express5-esm', summary: 'Express 5, express-session, Passport 0.7; ES modules JavaScript',
    typescript: false, main: 'app.js', redis: false, framework: 'express',
    prefix: '/2fa', usernameField: 'username', logout: { method: 'POST', path: '/logout' }, home: '/dashboard',
  },
];

/** `npm install` of the tarball (and the app's own dependencies) into a copy of the app; then `tsc` where it is TypeScript. */
async function install(c: Consumer, work: string, tarball: string): Promise<string> {
  const dir = join(work, c.name);
  cpSync(join(APPS, c.name), dir, { recursive: true });
  await run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
  if (c.typescript) await run(process.execPath, [TSC, '-p', '.'], { cwd: dir }).catch((err: { stdout?: string }) => {
    throw new Error(`tsc failed in ${c.name}:\n${err.stdout ?? String(err)}`);
  });
  return dir;
}

interface Started { url: string; child: ChildProcess; output: () => string }

/** Starts the app on a free port; resolves with its URL once it says where it listens. */
function startApp(dir: string, c: Consumer, env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [c.main], { cwd: dir, env: { ...process.env, ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${c.name} did not start within 20 s:\n${output}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const port = /listening on (\d+)/.exec(output)?.[1];
      if (port) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${port}`, child, output: () => output });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${c.name} exited with ${code}:\n${output}`));
    });
  });
}

function stop(s: Started | undefined): Promise<void> {
  // Ended already: by itself (exitCode) or by a signal (signalCode).
  if (!s || s.child.exitCode !== null || s.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    s.child.once('exit', () => resolve());
    s.child.kill('SIGTERM');
  });
}

/** The versions of `name` installed anywhere in the app's tree, from `npm ls --all --json`. */
async function installedVersions(dir: string, name: string): Promise<string[]> {
  type Tree = { version?: string; dependencies?: Record<string, Tree> };
  const { stdout } = await run('npm', ['ls', name, '--all', '--json'], { cwd: dir }).catch((err: { stdout: string }) => ({ stdout: err.stdout }));
  const found = new Set<string>();
  const walk = (deps: Record<string, Tree> | undefined) => {
    for (const [dep, tree] of Object.entries(deps ?? {})) {
      if (dep === name && tree.version) found.add(tree.version);
      walk(tree.dependencies);
    }
  };
  walk((JSON.parse(stdout || '{}') as Tree).dependencies);
  return [...found];
}

describe('consumer matrix: the packed package in real apps (CommonJS and ESM, Koa 2 and 3, Express 4 and 5)', function () {
  this.timeout(240_000);
  let work: string;
  let stage: string;
  let redis: RedisProcess;
  const installed = new Map<string, Promise<string>>();

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'koa-two-factor-consumers-'));
    const [built, server] = await Promise.all([buildStagedPackage(), startRedis()]);
    stage = built;
    redis = server;
    const tarball = await packStagedPackage(stage, work);
    for (const c of CONSUMERS) {
      const dir = install(c, work, tarball);
      dir.catch(() => {});
      installed.set(c.name, dir);
    }
  });

  after(async () => {
    await redis?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    if (stage) rmSync(stage, { recursive: true, force: true });
  });

  for (const c of CONSUMERS) {
    describe(`${c.name}: ${c.summary}`, () => {
      let app: Started | undefined;
      /** The app's TWO_FACTOR_KEYS: the command line reads its secrets with the same. */
      const keys = `k1:${SecretBox.randomKey()}`;
      afterEach(async () => {
        await stop(app);
        app = undefined;
      });

      it('installs from the tarball with one Koa in the tree (a Koa app) or none (an Express app), and ioredis only where the app has it', async () => {
        const dir = await installed.get(c.name)!;
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
        expect(await installedVersions(dir, 'koa')).to.have.length(c.framework === 'koa' ? 1 : 0);
        expect(await installedVersions(dir, 'ioredis')).to.have.length('ioredis' in pkg.dependencies ? 1 : 0);
        expect(await installedVersions(dir, 'express')).to.have.length(c.framework === 'express' ? 1 : 0);
      });

      it('login → link an authenticator → logout → login → code → protected page', async () => {
        const dir = await installed.get(c.name)!;
        const env: Record<string, string> = { TWO_FACTOR_KEYS: keys, ...(c.redis ? { REDIS_URL: redis.url } : {}) };
        app = await startApp(dir, c, env);
        const browser = new HttpClient(app.url);
        const login = () => browser.post('/login', { form: { [c.usernameField]: c.usernameField === 'email' ? 'alice@example.test' : 'alice', password: 'alice-password' } });
        const logout = () => (c.logout.method === 'GET' ? browser.get(c.logout.path, { accept: 'html' }) : browser.post(c.logout.path, { form: {} }));

        const first = await login();
        expect(first.status, first.text).to.equal(302);
        expect(first.headers.get('location')).to.equal(c.home);
        expect((await browser.get(c.home)).status, 'no 2FA yet: the password is enough').to.equal(200);

        const setup = await browser.post(`${c.prefix}/setup`, { json: { name: 'Phone' } });
        expect(setup.status, setup.text).to.equal(201);
        const secret = setup.body.secret as string;
        // Two codes of consecutive steps must both be inside the window: confirm with step s, log in with s + 1.
        await waitForTimeLeft(8_000);
        const now = Date.now();
        const confirmCode = totp(secret, now);
        const confirmed = await browser.post(`${c.prefix}/setup/confirm`, { json: { enrolmentId: setup.body.enrolmentId, code: confirmCode } });
        expect(confirmed.status, confirmed.text).to.equal(200);
        expect(confirmed.body.state).to.equal('active');
        expect(confirmed.body.backupCodes).to.have.length.greaterThan(0);

        const out = await logout();
        expect(out.status, out.text).to.equal(302);
        expect((await browser.get(c.home, { accept: 'html' })).status, 'logged out').to.equal(302);

        expect((await login()).status).to.equal(302);
        const gated = await browser.get(c.home);
        expect(gated.status, gated.text).to.equal(401);
        expect(gated.body.error).to.equal('second_factor_required');
        const page = await browser.get(`${c.prefix}/verify`, { accept: 'html' });
        expect(page.status).to.equal(200);
        // The built-in page's sign-out reaches the app's logout the way the app serves it.
        if (c.logout.method === 'GET') expect(page.text).to.include(`<a href="${c.logout.path}">`);
        else expect(page.text).to.match(new RegExp(`<form[^>]*method="post"[^>]*action="${c.logout.path}"|<form[^>]*action="${c.logout.path}"[^>]*method="post"`));

        const replayed = await browser.post(`${c.prefix}/verify`, { json: { code: confirmCode } });
        expect(replayed.status, 'the code that linked the authenticator, replayed').to.equal(401);
        expect(replayed.body.error).to.equal('invalid_code');
        const verified = await browser.post(`${c.prefix}/verify`, { json: { code: totp(secret, now + 30_000) } });
        expect(verified.status, verified.text).to.equal(200);
        expect(verified.body.verified).to.equal(true);

        const home = await browser.get(c.home);
        expect(home.status, home.text).to.equal(200);
        expect(home.body.user).to.match(/^alice/);
        expect(app.output(), 'startup warnings or errors').to.not.match(/koa-two-factor:|Error/);
      });

      if (c.redis) {
        it('runs the installed command (koa-two-factor doctor --json, the bin npx runs) on the app\'s Redis, with the app\'s ioredis', async () => {
          const dir = await installed.get(c.name)!;
          const env = { ...process.env, REDIS_URL: redis.url, TWO_FACTOR_KEYS: keys };
          // The tests' Redis keeps nothing on disk: the persistence check warns, so the exit status is 1.
          // The secret alice linked in the journey above opens with the app's keys.
          // What `npx koa-two-factor` runs: the link npm made in node_modules/.bin (run directly, so
          // that no npm_config_* of an enclosing npm or npx changes which package npx picks).
          const bin = join(dir, 'node_modules', '.bin', 'koa-two-factor');
          const outcome = await run(bin, ['--prefix', c.keyPrefix ?? '2fa', 'doctor', '--json'], { cwd: dir, env })
            .then((r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }), (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }));
          expect(outcome.stderr, 'stderr').to.equal('');
          expect(outcome.code, JSON.stringify(outcome)).to.equal(1);
          const report = JSON.parse(outcome.stdout) as { exitStatus: number; checks: { name: string; status: string }[] };
          expect(report.exitStatus).to.equal(1);
          const statusOf = Object.fromEntries(report.checks.map((k) => [k.name, k.status]));
          expect(statusOf).to.include({ connection: 'pass', 'maxmemory-policy': 'pass', 'lua-scripts': 'pass', persistence: 'warn', 'encryption-keys': 'pass' });
        });
      }
    });
  }
});
