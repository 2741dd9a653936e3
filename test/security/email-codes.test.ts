/**
 * Emailed one-time codes (issue 15): the fallback second factor must not be
 * the weak door. A stolen password plus a replayed, raced, foreign, stale or
 * guessed code gets nobody in; a script cannot flood an inbox; a relay that
 * is down leaves nothing behind and costs the user none of their sends; the
 * code never reaches a log or an audit event; step-up and required users
 * get it only when the app says so. Real SMTP (test/support/smtp-capture.ts)
 * on both example apps; the race also on one Redis and on a 3-master Cluster.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createTransport } from 'nodemailer';
import { MemoryGuardStore, type EmailOptions, type MailTransport } from '../../src/index.ts';
import { advanceClock, realNow, resetClock } from '../support/clock.ts';
import { codeAt, codeWithTimeLeft, describeEachExampleApp, enrol, startExample, type ExampleAppOptions, type ExampleKind, type RunningExample } from '../support/example-server.ts';
import type { HttpClient, HttpResponse } from '../support/http-client.ts';
import { inParallel, storeReady, tally, waitUntil, wrongCodes } from '../support/parallel.ts';
import { clusterBackend, redisBackend } from '../support/race-backends.ts';
import { codeIn, startSmtpCapture, type CapturedMessage, type SmtpCapture } from '../support/smtp-capture.ts';

const ALICE = '1';
const info = { endpoint: 'test' };
const ACTION = '/remote/take-control';
const MAX_AGE_MS = 60_000;

const addressOf = (username: string) => `${username}@example.test`;
const isCodeMessage = (m: CapturedMessage) => /your sign-in code/.test(m.subject);
const isNotice = (m: CapturedMessage) => /a security change/.test(m.subject);

/** The sign-in code messages `smtp` received for `username`, oldest first. */
function codeMessages(smtp: SmtpCapture, username: string): CapturedMessage[] {
  return smtp.messages.filter((m) => m.to.includes(addressOf(username)) && isCodeMessage(m));
}

/** POST /2fa/email-code as a JSON client. */
function askForCode(client: HttpClient, body: Record<string, unknown> = {}): Promise<HttpResponse> {
  return client.post('/2fa/email-code', { json: body });
}

/**
 * Asks for a code and reads it from the message: the answer comes after the
 * relay took the message, so the message is already there.
 */
async function emailedCode(smtp: SmtpCapture, client: HttpClient, username: string, digits = 6): Promise<string> {
  const before = codeMessages(smtp, username).length;
  const res = await askForCode(client);
  expect(res.status, res.text).to.equal(200);
  const received = codeMessages(smtp, username);
  expect(received, 'one new code message').to.have.length(before + 1);
  return codeIn(received[before]!, digits);
}

function verify(client: HttpClient, code: unknown): Promise<HttpResponse> {
  return client.post('/2fa/verify', { json: { code } });
}

/** The first security notice to `username` whose text matches `text`, waiting for it (notices are sent in the background). */
async function noticeTo(smtp: SmtpCapture, username: string, text: RegExp): Promise<CapturedMessage> {
  const find = () => smtp.messages.find((m) => m.to.includes(addressOf(username)) && isNotice(m) && text.test(m.text));
  await waitUntil(async () => find() !== undefined, 5_000, 10);
  return find()!;
}

/** `code` as a whole number in `text` (not inside a longer run of digits, such as a timestamp). */
function mentions(text: string, code: string): boolean {
  return new RegExp(`(?<![0-9])${code}(?![0-9])`).test(text);
}

/**
 * A real nodemailer SMTP transport to `url` that also keeps the codes of
 * the sign-in messages it was asked to send: the code of a send the relay
 * refused, which no inbox ever shows.
 */
function recordingTransport(url: string): { transport: MailTransport; codes: string[] } {
  const smtp = createTransport(url);
  const codes: string[] = [];
  return {
    codes,
    transport: {
      sendMail: (mail) => {
        if (/sign-in code/.test(mail.subject)) codes.push(codeIn({ to: [mail.to], from: '', subject: mail.subject, text: mail.text, html: mail.html }));
        return smtp.sendMail(mail);
      },
    },
  };
}

/** Listens on `port` (0: a free one); every connection goes to `onConnection`. */
async function listen(port: number, onConnection: (socket: Socket) => void): Promise<Server> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

/**
 * A TCP hop in front of the capture, on a port of its own: `down()` closes
 * the port (the app's SMTP connections are refused, as with a stopped relay),
 * `up()` opens the same port again.
 */
async function relayPort(smtp: SmtpCapture): Promise<{ url: string; down(): Promise<void>; up(): Promise<void> }> {
  const target = Number(new URL(smtp.url).port);
  const sockets = new Set<Socket>();
  const forward = (inbound: Socket) => {
    const outbound = connect(target, '127.0.0.1');
    const drop = () => { inbound.destroy(); outbound.destroy(); sockets.delete(inbound); sockets.delete(outbound); };
    sockets.add(inbound).add(outbound);
    for (const s of [inbound, outbound]) { s.on('error', drop); s.on('close', drop); }
    inbound.pipe(outbound).pipe(inbound);
  };
  let server: Server | undefined = await listen(0, forward);
  const port = (server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    async down() {
      const open = server;
      server = undefined;
      for (const s of sockets) s.destroy();
      if (open) await new Promise<void>((resolve) => open.close(() => resolve()));
    },
    async up() {
      server = await listen(port, forward);
    },
  };
}

interface EmailApp { ex: RunningExample; smtp: SmtpCapture; logs: string[] }

describeEachExampleApp('security: emailed one-time codes', function (kind) {
  this.timeout(20_000);
  /** What each test started, stopped after it in reverse order. */
  const started: (() => Promise<void>)[] = [];

  afterEach(async () => {
    resetClock();
    while (started.length > 0) await started.pop()!();
  });

  /**
   * A fresh SMTP capture and example app whose users get mail at
   * `<username>@example.test`; `transportOf` puts something between the app
   * and the capture (default: the capture's URL).
   */
  async function emailApp(email: Partial<EmailOptions> = {}, options: ExampleAppOptions = {}, transportOf?: (smtp: SmtpCapture) => Promise<string | MailTransport> | string | MailTransport): Promise<EmailApp> {
    const smtp = await startSmtpCapture();
    started.push(() => smtp.stop());
    const logs: string[] = [];
    const ex = await startExample({
      ...options,
      twoFactor: {
        stateCacheMs: 0,
        logger: (m: string) => { logs.push(m); },
        ...options.twoFactor,
        email: { transport: transportOf ? await transportOf(smtp) : smtp.url, from: 'security@example.test', getEmail: (u: { username: string }) => addressOf(u.username), ...email },
      },
    }, kind);
    started.push(() => ex.stop());
    return { ex, smtp, logs };
  }

  /** `username` with an authenticator (the activation notice is on its way), and a new session of theirs that has only the password. */
  async function enrolledHalf(ex: RunningExample, username: string): Promise<{ half: HttpClient; secret: string }> {
    const { secret } = await enrol(await ex.login(username));
    return { half: await ex.login(username), secret };
  }

  it('signs in with the code emailed to the user: the dashboard opens, and the answer and the audit name the masked address only', async () => {
    const { ex, smtp } = await emailApp();
    const { half } = await enrolledHalf(ex, 'alice');
    expect((await half.get('/dashboard')).status).to.equal(401);

    const sent = await askForCode(half);
    expect(sent.status, sent.text).to.equal(200);
    expect(sent.body).to.have.all.keys('sent', 'to', 'expiresAt');
    expect(sent.body).to.include({ sent: true, to: 'a***@example.test' });
    expect(new Date(sent.body.expiresAt).getTime() - Date.now()).to.be.within(9 * 60_000, 10 * 60_000);
    const message = codeMessages(smtp, 'alice')[0]!;
    expect(message.to).to.deep.equal(['alice@example.test']);
    expect(message.from).to.equal('security@example.test');
    const code = codeIn(message);
    expect(message.html).to.include(code);

    const res = await verify(half, code);
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.include({ verified: true, method: 'email' });
    expect((await half.get('/dashboard')).status).to.equal(200);
    expect(ex.audit.find((e) => e.type === 'email_code.sent')?.detail).to.deep.include({ to: 'a***@example.test' });
    expect(ex.audit.filter((e) => e.type === 'verification.succeeded' && e.userId === ALICE).map((e) => e.detail?.method)).to.include('email');
  });

  it('stops a replay: the code works once, the same code in another half-logged-in session is 401', async () => {
    const { ex, smtp } = await emailApp();
    const { half } = await enrolledHalf(ex, 'alice');
    const code = await emailedCode(smtp, half, 'alice');
    expect((await verify(half, code)).status).to.equal(200);

    const other = await ex.login('alice');
    const replay = await verify(other, code);
    expect(replay.status).to.equal(401);
    expect(replay.body.error).to.equal('invalid_code');
    expect((await other.get('/dashboard')).status).to.equal(401);
  });

  it('stops a race: one code sent from two sessions at once lets exactly one in (3 rounds)', async () => {
    const { ex, smtp } = await emailApp({ maxSends: 100 });
    await enrol(await ex.login('alice'));
    // The loser of a round is still half-logged-in: it races again, with one new session.
    let loser = await ex.login('alice');
    for (let round = 0; round < 3; round++) {
      const sessions = [loser, await ex.login('alice')];
      const code = await emailedCode(smtp, sessions[round % 2]!, 'alice');
      const answers = await inParallel(2, (i) => verify(sessions[i]!, code));
      expect(tally(answers), `round ${round}`).to.deep.equal({ '200': 1, '401 invalid_code': 1 });
      loser = sessions[answers.findIndex((a) => a.status !== 200)]!;
    }
    expect(ex.audit.filter((e) => e.type === 'verification.succeeded' && e.detail?.method === 'email')).to.have.length(3);
  });

  it('stops a code sent to bob from signing alice in; it stays bob\'s', async () => {
    const { ex, smtp } = await emailApp();
    const alice = await enrolledHalf(ex, 'alice');
    const bob = await enrolledHalf(ex, 'bob');
    const bobsCode = await emailedCode(smtp, bob.half, 'bob');
    expect(codeMessages(smtp, 'alice')).to.have.length(0);

    const res = await verify(alice.half, bobsCode);
    expect(res.status).to.equal(401);
    expect(res.body.error).to.equal('invalid_code');
    expect((await alice.half.get('/dashboard')).status).to.equal(401);
    expect((await verify(bob.half, bobsCode)).status).to.equal(200);
  });

  it('refuses a code from the moment its codeTtlMs (10 min by default) is over', async () => {
    // The guard store's clock is moved, not waited for: a second before the
    // expiry a code still works, at the expiry it does not.
    const guard = new MemoryGuardStore();
    let aheadMs = 0;
    guard.now = () => realNow() + aheadMs;
    const { ex, smtp } = await emailApp({}, { twoFactor: { guard } });
    const { half } = await enrolledHalf(ex, 'alice');
    const expiresAt = async (client: HttpClient) => {
      const sent = await askForCode(client);
      expect(sent.status, sent.text).to.equal(200);
      const at = new Date(sent.body.expiresAt).getTime();
      expect(at - realNow()).to.be.within(10 * 60_000 - 5_000, 10 * 60_000);
      return { at, code: codeIn(codeMessages(smtp, 'alice').at(-1)!) };
    };

    const inTime = await expiresAt(half);
    aheadMs = inTime.at - 1_000 - realNow();
    expect((await verify(half, inTime.code)).status).to.equal(200);

    const late = await ex.login('alice');
    const expired = await expiresAt(late);
    aheadMs = expired.at - realNow();
    const res = await verify(late, expired.code);
    expect(res.status).to.equal(401);
    expect(res.body.error).to.equal('invalid_code');
  });

  it('kills the older code when a newer one is sent', async () => {
    const { ex, smtp } = await emailApp();
    const { half } = await enrolledHalf(ex, 'alice');
    const older = await emailedCode(smtp, half, 'alice');
    const newer = await emailedCode(smtp, half, 'alice');
    const res = await verify(half, older);
    expect(res.status).to.equal(401);
    expect(res.body.error).to.equal('invalid_code');
    expect((await verify(half, newer)).status).to.equal(200);
  });

  it('stops an inbox flood: the 4th send for a user in the window is 429 with Retry-After, sends no mail and leaves the live code alone', async () => {
    const { ex, smtp } = await emailApp();
    const { half } = await enrolledHalf(ex, 'alice');
    let last = '';
    for (let i = 0; i < 3; i++) last = await emailedCode(smtp, half, 'alice');
    const refused = await askForCode(half);
    expect(refused.status).to.equal(429);
    expect(refused.body.error).to.equal('too_many_attempts');
    expect(Number(refused.headers.get('retry-after'))).to.be.within(1, 15 * 60);
    expect(codeMessages(smtp, 'alice')).to.have.length(3);
    expect(ex.audit.filter((e) => e.type === 'email_code.refused').map((e) => e.detail?.reason)).to.deep.equal(['user_limit']);
    // A refused send is not a send: the code of the 3rd still signs in.
    expect((await verify(half, last)).status).to.equal(200);
  });

  it('stops one client address from mailing many users: 3 sends for 3 users, then the 4th (a user with one send so far) is 429', async () => {
    // Every client of the test is 127.0.0.1. The per-user limit (3) cannot be
    // what refuses here: alice asked once before.
    const { ex, smtp } = await emailApp();
    const halves: HttpClient[] = [];
    for (const name of ['alice', 'bob', 'admin']) halves.push((await enrolledHalf(ex, name)).half);
    for (const [i, name] of ['alice', 'bob', 'admin'].entries()) await emailedCode(smtp, halves[i]!, name);
    const refused = await askForCode(halves[0]!);
    expect(refused.status).to.equal(429);
    expect(refused.body.error).to.equal('too_many_attempts');
    expect(Number(refused.headers.get('retry-after'))).to.be.within(1, 15 * 60);
    expect(codeMessages(smtp, 'alice')).to.have.length(1);
    expect(ex.audit.filter((e) => e.type === 'email_code.refused').map((e) => e.detail?.reason)).to.deep.equal(['ip_limit']);
  });

  it('counts wrong emailed codes in the failure budget: after 5 wrong ones even the right emailed code is 429', async () => {
    // 8 digits: no guess has the shape of an authenticator code, so only the emailed-code check judges them.
    const { ex, smtp } = await emailApp({ codeDigits: 8 });
    const { half, secret } = await enrolledHalf(ex, 'alice');
    const code = await emailedCode(smtp, half, 'alice', 8);
    expect(code).to.match(/^[0-9]{8}$/);
    const guesses = Array.from({ length: 5 }, (_, i) => String((Number(code) + 1 + i * 7_919) % 100_000_000).padStart(8, '0'));
    for (const guess of guesses) {
      const res = await verify(half, guess);
      expect(res.status, guess).to.equal(401);
      expect(res.body.error).to.equal('invalid_code');
    }
    const right = await verify(half, code);
    expect(right.status).to.equal(429);
    expect(right.body.error).to.equal('too_many_attempts');
    expect(Number(right.headers.get('retry-after'))).to.be.within(1, 15 * 60);
    // One budget: the authenticator is locked out too (refused before any code is judged).
    expect((await verify(half, codeAt(secret, 0))).status).to.equal(429);
    expect((await half.get('/dashboard')).status).to.equal(401);
  });

  it('answers 503 email_unavailable while the relay refuses mail; the code of a failed send never works, and failed sends are not counted', async () => {
    let recorder: ReturnType<typeof recordingTransport> | undefined;
    const { ex, smtp, logs } = await emailApp({}, {}, (s) => (recorder = recordingTransport(s.url)).transport);
    const { half } = await enrolledHalf(ex, 'alice');

    smtp.refuse = true;
    // More failed sends than the limit allows: each is given back, so none is 429.
    for (let i = 0; i < 4; i++) {
      const res = await askForCode(half);
      expect(res.status, `send ${i + 1}: ${res.text}`).to.equal(503);
      expect(res.body.error).to.equal('email_unavailable');
    }
    expect(recorder!.codes).to.have.length(4);
    const res = await verify(half, recorder!.codes[3]!);
    expect(res.status).to.equal(401);
    expect(res.body.error).to.equal('invalid_code');
    expect(ex.audit.filter((e) => e.type === 'email_code.failed')).to.have.length(4);
    expect(logs.filter((l) => /could not send an email code/.test(l))).to.have.length(4);

    smtp.refuse = false;
    let last = '';
    for (let i = 0; i < 3; i++) last = await emailedCode(smtp, half, 'alice');
    expect((await askForCode(half)).status, 'the limit is whole again, and still there').to.equal(429);
    expect((await verify(half, last)).status).to.equal(200);
  });

  it('answers 503 email_unavailable while the relay\'s port is closed, and sends again once it is open', async () => {
    let relay: Awaited<ReturnType<typeof relayPort>> | undefined;
    const { ex, smtp } = await emailApp({}, {}, async (s) => { relay = await relayPort(s); return relay.url; });
    started.push(() => relay!.down());
    const { half } = await enrolledHalf(ex, 'alice');
    // The activation notice went through the relay before it goes down.
    await noticeTo(smtp, 'alice', /turned on/);

    await relay!.down();
    for (let i = 0; i < 4; i++) {
      const res = await askForCode(half);
      expect(res.status, `send ${i + 1}: ${res.text}`).to.equal(503);
      expect(res.body.error).to.equal('email_unavailable');
    }
    await relay!.up();
    let last = '';
    for (let i = 0; i < 3; i++) last = await emailedCode(smtp, half, 'alice');
    expect((await askForCode(half)).status).to.equal(429);
    expect((await verify(half, last)).status).to.equal(200);
  });

  it('answers 503 email_unavailable when the relay has stopped', async () => {
    const { ex, smtp } = await emailApp();
    const { half } = await enrolledHalf(ex, 'alice');
    await noticeTo(smtp, 'alice', /turned on/);
    await smtp.stop();
    const res = await askForCode(half);
    expect(res.status, res.text).to.equal(503);
    expect(res.body.error).to.equal('email_unavailable');
    expect(ex.audit.filter((e) => e.type === 'email_code.failed').map((e) => e.detail?.to)).to.deep.equal(['a***@example.test']);
  });

  it('answers 503 email_unavailable after sendTimeoutMs when the relay accepts the connection but never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = await listen(0, (s) => { sockets.add(s); s.on('error', () => {}); });
    started.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const { ex } = await emailApp({ sendTimeoutMs: 200 }, {}, () => `smtp://127.0.0.1:${(silent.address() as AddressInfo).port}`);
    const { half } = await enrolledHalf(ex, 'alice');
    for (let i = 0; i < 2; i++) {
      const began = Date.now();
      const res = await askForCode(half);
      expect(res.status, res.text).to.equal(503);
      expect(res.body.error).to.equal('email_unavailable');
      expect(Date.now() - began).to.be.within(190, 5_000);
    }
  });

  it('keeps every emailed code out of the logs and the audit events', async () => {
    let recorder: ReturnType<typeof recordingTransport> | undefined;
    const { ex, smtp, logs } = await emailApp({ maxSends: 10 }, {}, (s) => (recorder = recordingTransport(s.url)).transport);
    const { half, secret } = await enrolledHalf(ex, 'alice');
    const used = await emailedCode(smtp, half, 'alice');
    expect((await verify(half, used)).status).to.equal(200);
    const second = await ex.login('alice');
    expect((await verify(second, used)).status, 'replay').to.equal(401);
    const replaced = await emailedCode(smtp, second, 'alice');
    const live = await emailedCode(smtp, second, 'alice');
    expect((await verify(second, replaced)).status, 'replaced').to.equal(401);
    expect((await verify(second, wrongCodes(secret, 1)[0]!)).status, 'wrong').to.equal(401);
    expect((await verify(second, live)).status).to.equal(200);
    smtp.refuse = true;
    expect((await askForCode(await ex.login('alice'))).status, 'relay down').to.equal(503);

    const codes = recorder!.codes;
    expect(codes).to.have.length(4);
    expect(logs.some((l) => /could not send an email code/.test(l)), 'the failure was logged').to.equal(true);
    const audit = JSON.stringify(ex.audit);
    for (const code of codes) {
      expect(logs.filter((l) => mentions(l, code)), `code ${code} in a log line`).to.deep.equal([]);
      expect(mentions(audit, code), `code ${code} in the audit events`).to.equal(false);
    }
  });

  it('refuses an emailed code at step-up by default, and accepts it with allowForStepUp', async () => {
    for (const allowForStepUp of [false, true]) {
      const { ex, smtp } = await emailApp({ allowForStepUp }, { takeControlMaxAgeMs: MAX_AGE_MS });
      const verified = await ex.login('alice');
      await enrol(verified);
      expect((await verified.post(ACTION, { json: {} })).status).to.equal(200);
      advanceClock(MAX_AGE_MS + 1_000);
      const stale = await verified.post(ACTION, { json: {} });
      expect(stale.status).to.equal(403);
      expect(stale.body.error).to.equal('step_up_required');

      // Asked for from the step-up page: sent only when step-up would take it.
      const forStepUp = await askForCode(verified, { kind: 'step-up' });
      expect(forStepUp.status, forStepUp.text).to.equal(allowForStepUp ? 200 : 403);
      if (!allowForStepUp) expect(forStepUp.body.error).to.equal('forbidden');
      // Otherwise a code from the verify page's button.
      const code = allowForStepUp ? codeIn(codeMessages(smtp, 'alice').at(-1)!) : await emailedCode(smtp, verified, 'alice');
      const stepUp = await verified.post('/2fa/step-up', { json: { code } });
      if (!allowForStepUp) {
        expect(stepUp.status, stepUp.text).to.equal(401);
        expect(stepUp.body.error).to.equal('invalid_code');
        expect((await verified.post(ACTION, { json: {} })).status).to.equal(403);
        // It was refused as a step-up answer, not because it was wrong: the gate still takes it.
        expect((await verify(await ex.login('alice'), code)).status).to.equal(200);
      } else {
        expect(stepUp.status, stepUp.text).to.equal(200);
        expect(stepUp.body).to.include({ verified: true, method: 'email' });
        const run = await verified.post(ACTION, { json: {} });
        expect(run.status, run.text).to.equal(200);
        expect(run.body.started).to.equal(true);
      }
      resetClock();
    }
  });

  it('with allowForRequiredUsers: false, refuses to email a user an admin requires 2FA of (403), and their earlier code stops working', async () => {
    const { ex, smtp } = await emailApp({ allowForRequiredUsers: false });
    const alice = await enrolledHalf(ex, 'alice');
    const bob = await enrolledHalf(ex, 'bob');
    const earlier = await emailedCode(smtp, alice.half, 'alice');
    await ex.app.tf.service.setRequired([ALICE], true, info);

    const refused = await askForCode(alice.half);
    expect(refused.status).to.equal(403);
    expect(refused.body.error).to.equal('forbidden');
    expect(codeMessages(smtp, 'alice')).to.have.length(1);
    const res = await verify(alice.half, earlier);
    expect(res.status).to.equal(401);
    expect(res.body.error).to.equal('invalid_code');
    // bob is not required: he still gets codes.
    expect((await verify(bob.half, await emailedCode(smtp, bob.half, 'bob'))).status).to.equal(200);
  });

  it('a send that fails leaves the code already in the inbox working', async () => {
    const { ex, smtp } = await emailApp();
    const { half } = await enrolledHalf(ex, 'alice');
    const code = await emailedCode(smtp, half, 'alice');
    smtp.refuse = true;
    expect((await askForCode(half)).status).to.equal(503);
    smtp.refuse = false;
    expect((await verify(half, code)).status, 'the earlier code still works').to.equal(200);
  });

  it('a code emailed before 2FA was turned off does not work once it is on again', async () => {
    const { ex, smtp } = await emailApp();
    const verified = await ex.login('alice');
    const { secret } = await enrol(verified);
    const half = await ex.login('alice');
    const code = await emailedCode(smtp, half, 'alice');
    expect((await verified.post('/2fa/disable', { json: { code: await codeWithTimeLeft(secret, 0) } })).status).to.equal(200);
    await enrol(verified);
    const again = await ex.login('alice');
    const res = await verify(again, code);
    expect(res.status).to.equal(401);
    expect(res.body.error).to.equal('invalid_code');
  });

  it('tells the user by email when 2FA is turned on and when it is turned off', async () => {
    const { ex, smtp } = await emailApp();
    const verified = await ex.login('alice');
    const { secret } = await enrol(verified);
    const on = await noticeTo(smtp, 'alice', /Two-factor authentication was turned on/);
    expect(on.subject).to.equal('koa-two-factor example: a security change on your account');
    expect(on.text).to.match(/When: \d{4}-\d\d-\d\dT/);
    expect(on.text).to.include('If this was not you');
    expect(on.from).to.equal('security@example.test');

    const off = await verified.post('/2fa/disable', { json: { code: await codeWithTimeLeft(secret, 0) } });
    expect(off.status, off.text).to.equal(200);
    const notice = await noticeTo(smtp, 'alice', /Two-factor authentication was turned off/);
    expect(notice.subject).to.equal('koa-two-factor example: a security change on your account');
    await waitUntil(async () => ex.audit.filter((e) => e.type === 'email_notice.sent' && e.userId === ALICE).length === 2, 5_000, 10);
    expect(ex.audit.filter((e) => e.type === 'email_notice.sent').map((e) => ({ notice: e.detail?.notice, to: e.detail?.to }))).to.deep.equal([
      { notice: 'activated', to: 'a***@example.test' },
      { notice: 'disabled', to: 'a***@example.test' },
    ]);
    expect(smtp.messages.filter((m) => m.to.includes(addressOf('bob')))).to.deep.equal([]);
  });

  it('answers a code that is no string with 400 invalid_input, and judges nothing', async () => {
    const { ex, smtp } = await emailApp();
    const { half } = await enrolledHalf(ex, 'alice');
    const code = await emailedCode(smtp, half, 'alice');
    for (const bad of [Number(code), [code], { code }, true, null]) {
      const res = await verify(half, bad);
      expect(res.status, JSON.stringify(bad)).to.equal(400);
      expect(res.body.error).to.equal('invalid_input');
    }
    expect((await verify(half, code)).status).to.equal(200);
  });
});

// ---------------------------------------------------------------------------
// The race on shared stores: the code is taken in the guard store's one
// atomic attempt, whichever app server or Cluster master answers.

const BACKENDS = [redisBackend(), clusterBackend()];

for (const backend of BACKENDS) {
  describe(`security: an emailed code raced from 20 sessions on ${backend.name}`, function () {
    this.timeout(60_000);
    const kind: ExampleKind = 'koa';
    let ex: RunningExample;
    let smtp: SmtpCapture;

    before(async () => {
      smtp = await startSmtpCapture();
      const options = await backend.start();
      ex = await startExample({
        ...options,
        twoFactor: { ...options.twoFactor, email: { transport: smtp.url, getEmail: (u: { username: string }) => addressOf(u.username), maxSends: 100 } },
      }, kind);
      await storeReady(ex.app.tf.service);
      await waitUntil(() => ex.login('alice').then(() => true), 5_000, 20);
      await enrol(await ex.login('alice'));
    });
    after(async () => {
      await ex?.stop();
      await backend.stop();
      await smtp?.stop();
    });

    it('lets exactly one of 20 parallel verifies with one emailed code in (3 rounds)', async () => {
      // Logged in one after another: 20 password checks at once would hold the event loop past the store's command timeout.
      const sessions: HttpClient[] = [];
      for (let i = 0; i < 20; i++) sessions.push(await ex.login('alice'));
      for (let round = 0; round < 3; round++) {
        const code = await emailedCode(smtp, sessions[round]!, 'alice');
        const answers = await inParallel(20, (i) => verify(sessions[i]!, code));
        expect(tally(answers), `round ${round}`).to.deep.equal({ '200': 1, '401 invalid_code': 19 });
        // The 19 losers are still half-logged-in: they race the next round with one new session.
        sessions.splice(answers.findIndex((a) => a.status === 200), 1, await ex.login('alice'));
      }
      expect(ex.audit.filter((e) => e.type === 'verification.succeeded' && e.userId === ALICE && e.detail?.method === 'email')).to.have.length(3);
    });
  });
}
