/**
 * Starts the example app on a free loopback port, in memory or on a Redis
 * the test started, and gives logged-in clients and TOTP codes.
 */
import { createExampleApp, type ExampleOptions } from '../../examples/basic/app.ts';
import { generateCode, SecretBox, type AuditEvent } from '../../src/index.ts';
import { HttpClient } from './http-client.ts';
import { codeWithTimeLeft, realNow, waitForTimeLeft } from './clock.ts';
import { listenOnLoopback } from './listen.ts';

export { codeWithTimeLeft, waitForTimeLeft };

export interface RunningExample {
  url: string;
  audit: AuditEvent[];
  app: ReturnType<typeof createExampleApp>;
  client(): HttpClient;
  /** A client logged in with the password only. */
  login(username: string): Promise<HttpClient>;
  stop(): Promise<void>;
}

export async function startExample(o: ExampleOptions = {}): Promise<RunningExample> {
  const audit: AuditEvent[] = [];
  const app = createExampleApp({
    encryptionKeys: o.redisUrl ? `t1:${SecretBox.randomKey()}` : undefined,
    audit: (e) => { audit.push(e); },
    ...o,
    twoFactor: { logger: () => {}, ...o.twoFactor },
  });
  await app.ready();
  const { server, url } = await listenOnLoopback(app.app);
  return {
    url, audit, app,
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
