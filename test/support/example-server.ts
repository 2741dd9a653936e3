/**
 * Starts an example app on a free loopback port, in memory or on a Redis
 * the test started, and gives logged-in clients and TOTP codes.
 *
 * There are two example apps speaking the same HTTP: Koa (examples/basic)
 * and Express (examples/express). The HTTP contract tests run against each:
 * `describeEachExampleApp(title, (kind) => { … startExample(o, kind) … })`
 * declares the block once per app, `[koa]` / `[express]` after its title.
 * `EXAMPLE_APPS=koa` (a comma list) restricts a run to some of them, for
 * local debugging; by default every app runs.
 */
import type { RequestListener } from 'node:http';
import type Koa from 'koa';
import type { ExampleApp, ExampleOptions } from '../../examples/basic/app.ts';
import type { ExpressExampleApp } from '../../examples/express/app.ts';
import { generateCode, SecretBox, type AuditEvent } from '../../src/index.ts';
import { HttpClient } from './http-client.ts';
import { codeWithTimeLeft, realNow, waitForTimeLeft } from './clock.ts';
import { listenOnLoopback } from './listen.ts';

export { codeWithTimeLeft, waitForTimeLeft };

/**
 * What every example app takes: the Koa example's options, with the 2FA
 * options both frameworks share (not the callbacks that receive Koa's `ctx`
 * or Express' `req`).
 */
export type ExampleAppOptions = Omit<ExampleOptions, 'twoFactor'> & {
  twoFactor?: Omit<NonNullable<ExampleOptions['twoFactor']>, 'getUser' | 'canManage'> | undefined;
};

interface BuiltExample {
  app: ExampleApp | ExpressExampleApp;
  /** What listens: a Koa app or a Node request handler. */
  server: Koa | RequestListener;
  /** The session cookie's name. */
  sessionCookie: string;
  /** Keeps the framework from printing the errors that reach its own last-resort handler. */
  silence(): void;
}

/**
 * Loads a module on first use, the way this module was loaded: mocha
 * `require`s the test files (tsx compiles them to CommonJS), and an
 * `import()` from here would load a second copy of src/, whose classes
 * (`MemoryRecordStore`, `TwoFactorError`…) are not the tests' own.
 */
function load<T>(specifier: string): Promise<T> {
  return typeof require === 'function' ? Promise.resolve(require(specifier) as T) : (import(specifier) as Promise<T>);
}

/**
 * The example apps: koa → `createExampleApp`, express →
 * `createExpressExampleApp`. Each is loaded on first use, so a run limited
 * to one framework (or a broken adapter of the other) does not load the
 * other's modules.
 */
export const EXAMPLE_APPS = {
  async koa(o: ExampleAppOptions): Promise<BuiltExample> {
    const { createExampleApp } = await load<typeof import('../../examples/basic/app.ts')>('../../examples/basic/app.ts');
    const app = createExampleApp(o);
    // koa-session's cookie, as examples/basic/app.ts names it.
    return { app, server: app.app, sessionCookie: 'koa.sess', silence: () => { app.app.silent = true; } };
  },
  async express(o: ExampleAppOptions): Promise<BuiltExample> {
    const { createExpressExampleApp, SESSION_COOKIE } = await load<typeof import('../../examples/express/app.ts')>('../../examples/express/app.ts');
    const app = createExpressExampleApp(o);
    // finalhandler prints the stack of an error that reaches it unless env is 'test'.
    return { app, server: app.app, sessionCookie: SESSION_COOKIE, silence: () => { app.app.set('env', 'test'); } };
  },
} as const;

export type ExampleKind = keyof typeof EXAMPLE_APPS;

/** The example apps this run tests: every one, or those the `EXAMPLE_APPS` variable lists (`koa,express`). */
export function selectedExampleApps(): ExampleKind[] {
  const all = Object.keys(EXAMPLE_APPS) as ExampleKind[];
  const wanted = (process.env.EXAMPLE_APPS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (wanted.length === 0) return all;
  for (const name of wanted) {
    if (!(all as string[]).includes(name)) throw new Error(`EXAMPLE_APPS: no example app "${name}" (there are: ${all.join(', ')})`);
  }
  return all.filter((kind) => wanted.includes(kind));
}

/** Calls `declare` once per example app of this run (see `selectedExampleApps`). */
export function forEachExampleApp(declare: (kind: ExampleKind) => void): void {
  for (const kind of selectedExampleApps()) declare(kind);
}

/** `describe(title, fn)` once per example app, titled `title [koa]`, `title [express]`; `fn` gets the kind (and mocha's `this`). */
export function describeEachExampleApp(title: string, fn: (this: Mocha.Suite, kind: ExampleKind) => void): void {
  forEachExampleApp((kind) => {
    describe(`${title} [${kind}]`, function () {
      fn.call(this, kind);
    });
  });
}

export interface RunningExample {
  kind: ExampleKind;
  url: string;
  audit: AuditEvent[];
  app: ExampleApp | ExpressExampleApp;
  /** The name of the session cookie (koa-session's `koa.sess`, express-session's `sid`). */
  sessionCookie: string;
  /** Keeps the framework from printing errors that reach its last-resort handler (Koa: `app.silent`). */
  silence(): void;
  client(): HttpClient;
  /** A client logged in with the password only. */
  login(username: string): Promise<HttpClient>;
  stop(): Promise<void>;
}

/**
 * scrypt cost of the demo users' passwords in tests: 2^10 (about 1 ms)
 * instead of 2^14 (about 50 ms). The races log 50 sessions in at a time;
 * their CPU belongs to the code under test.
 */
export const TEST_PASSWORD_COST = 2 ** 10;

export async function startExample(o: ExampleAppOptions, kind: ExampleKind): Promise<RunningExample> {
  const audit: AuditEvent[] = [];
  const built = await EXAMPLE_APPS[kind]({
    encryptionKeys: o.redisUrl ? `t1:${SecretBox.randomKey()}` : undefined,
    audit: (e) => { audit.push(e); },
    passwordCost: TEST_PASSWORD_COST,
    ...o,
    twoFactor: { logger: () => {}, ...o.twoFactor },
  });
  const { app } = built;
  await app.ready();
  const { server, url } = await listenOnLoopback(built.server);
  return {
    kind, url, audit, app, sessionCookie: built.sessionCookie, silence: built.silence,
    client: () => new HttpClient(url),
    async login(username) {
      const c = new HttpClient(url);
      const res = await c.post('/login', { json: { username, password: `${username}-password` } });
      if (res.status !== 200) throw new Error(`login of ${username} failed: ${res.status} ${res.text}`);
      return c;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await app.close();
    },
  };
}

/**
 * The code of `secret` `offsetSteps` steps from now (-1, 0, 1 are inside the
 * default window), without waiting: for codes a test must avoid. A code the
 * server must accept comes from `codeWithTimeLeft`, which never hands one
 * out in the last seconds of its step.
 */
export function codeAt(secret: string, offsetSteps = 0): string {
  return generateCode(secret, realNow() + offsetSteps * 30_000);
}

/** Logs in, links an authenticator and returns its secret; the session ends verified. */
export async function enrol(client: HttpClient, name = 'Phone'): Promise<{ secret: string; deviceId: string; backupCodes: string[] }> {
  const setup = await client.post('/2fa/setup', { json: { name } });
  if (setup.status !== 201) throw new Error(`setup failed: ${setup.status} ${setup.text}`);
  const confirm = await client.post('/2fa/setup/confirm', { json: { enrolmentId: setup.body.enrolmentId, code: await codeWithTimeLeft(setup.body.secret, -1) } });
  if (confirm.status !== 200) throw new Error(`confirm failed: ${confirm.status} ${confirm.text}`);
  return { secret: setup.body.secret, deviceId: confirm.body.deviceId, backupCodes: confirm.body.backupCodes ?? [] };
}
