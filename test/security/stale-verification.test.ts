/**
 * A session must not stay verified on stale knowledge: the gate's cache must
 * not keep (or bring back) facts older than a change made in this process,
 * a copy of a session must lose its second factor when the session moves on
 * to a new login, `requireStepUp` must read the store rather than the
 * gate's cache, and the session that made a change must not be locked out by
 * its own stale cache entry. Failures to end a login server-side are logged,
 * never a reason to keep a session verified.
 */
import { expect } from 'chai';
import { generateCode } from '../../src/index.ts';
import type { SessionFacts } from '../../src/core/session-policy.ts';
import type { TwoFactorService } from '../../src/core/two-factor-service.ts';
import { SessionFactsCache } from '../../src/core/http/session-facts.ts';
import { sessionOf } from '../../src/core/http/session-store.ts';
import type { HttpRequest } from '../../src/core/http/types.ts';
import { MemoryGuardStore } from '../../src/stores/memory-guard-store.ts';
import { HttpClient } from '../support/http-client.ts';
import { enrolOver, startMiniApp, type MiniApp } from '../support/mini-app.ts';

/** A service whose `sessionFacts` reads are held until the test answers them. */
function heldService() {
  const pending: { resolve: (f: SessionFacts) => void }[] = [];
  const service = {
    sessionFacts: () => new Promise<SessionFacts>((resolve) => { pending.push({ resolve }); }),
  } as unknown as TwoFactorService;
  return { service, pending };
}

const ACTIVE: SessionFacts = { state: 'active', generation: 1, loginAlive: true };
const RESET: SessionFacts = { state: 'none', generation: 2, loginAlive: false };
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('security: the gate\'s cache never outlives a change made in this process', () => {
  it('a read that was under way when the login was forgotten is not cached', async () => {
    const { service, pending } = heldService();
    const cache = new SessionFactsCache(service, 60_000);
    const s = { uid: 'alice', login: 'L1' };
    const before = cache.cached('alice', s);
    await tick();
    cache.forget('alice', s);
    pending[0]!.resolve(ACTIVE);
    expect(await before).to.deep.equal(ACTIVE);
    // The next gated request reads again instead of trusting the old answer.
    const after = cache.cached('alice', s);
    await tick();
    expect(pending).to.have.length(2);
    pending[1]!.resolve(RESET);
    expect(await after).to.deep.equal(RESET);
  });

  it('a verification primes the cache: a read under way before it does not replace what the verification knows', async () => {
    const { service, pending } = heldService();
    const cache = new SessionFactsCache(service, 60_000);
    const s = { uid: 'alice', login: 'L2' };
    const old = cache.cached('alice', s);
    await tick();
    cache.prime('alice', s, ACTIVE);
    pending[0]!.resolve(RESET);
    expect(await old).to.deep.equal(RESET);
    expect(await cache.cached('alice', s)).to.deep.equal(ACTIVE);
    expect(pending, 'no read after priming').to.have.length(1);
    // A change in this process still ends it.
    cache.forget('alice', s);
    const next = cache.cached('alice', s);
    await tick();
    expect(pending).to.have.length(2);
    pending[1]!.resolve(RESET);
    expect(await next).to.deep.equal(RESET);
  });

  it('the end of an old read does not drop the read that replaced it: requests in flight still share one read', async () => {
    const { service, pending } = heldService();
    const cache = new SessionFactsCache(service, 60_000);
    const s = { uid: 'alice', login: 'L1' };
    const old = cache.cached('alice', s);
    await tick();
    cache.forget('alice', s);
    const fresh = cache.cached('alice', s);
    await tick();
    expect(pending).to.have.length(2);
    pending[0]!.resolve(ACTIVE);
    await old;
    const sharing = cache.cached('alice', s);
    await tick();
    expect(pending, 'the third request shares the second read').to.have.length(2);
    pending[1]!.resolve(RESET);
    expect(await fresh).to.deep.equal(RESET);
    expect(await sharing).to.deep.equal(RESET);
  });
});

describe('security: a verified session over HTTP, with a long-lived gate cache', () => {
  let app: MiniApp;
  const logs = () => app.logs;

  before(async () => {
    app = await startMiniApp({
      twoFactor: { stateCacheMs: 60_000 },
      routes(router, tf) {
        router.get('/app', (ctx) => { ctx.body = { ok: true }; });
        router.post('/action', tf.requireStepUp({ csrf: false }), (ctx) => { ctx.body = { ran: true }; });
      },
    });
  });
  after(async () => {
    await app?.stop();
  });

  it('regenerating backup codes (a generation bump) keeps this session in: the gate drops its cached generation', async () => {
    const alice = await app.login('alice');
    const secret = await enrolOver(alice);
    expect((await alice.get('/app')).status).to.equal(200);
    const regen = await alice.post('/2fa/backup-codes', { json: { code: generateCode(secret, Date.now()) } });
    expect(regen.status, regen.text).to.equal(200);
    const res = await alice.get('/app');
    expect(res.status, res.text).to.equal(200);
  });

  it('the pages after a verification cost no store read: the verification primes the gate\'s cache', async () => {
    const erin = await app.login('erin');
    const secret = await enrolOver(erin);
    const again = await app.login('erin');
    expect((await again.get('/app')).status, 'password only').to.equal(401);
    const service = app.tf.service;
    const original = service.sessionFacts.bind(service);
    let reads = 0;
    service.sessionFacts = (...args) => { reads += 1; return original(...args); };
    try {
      const verified = await again.post('/2fa/verify', { json: { code: generateCode(secret, Date.now()) } });
      expect(verified.status, verified.text).to.equal(200);
      const before = reads;
      for (let i = 0; i < 3; i++) expect((await again.get('/app')).status).to.equal(200);
      expect(reads - before, 'store reads by the gate after the verification').to.equal(0);
    } finally {
      service.sessionFacts = original;
    }
  });

  it('requireStepUp reads the store: a reset a moment ago counts, whatever the gate cached', async () => {
    const carol = await app.login('carol');
    await enrolOver(carol);
    expect((await carol.get('/app')).status).to.equal(200);
    expect((await carol.post('/action', { json: {} })).status).to.equal(200);
    await app.tf.service.resetUser('carol', { endpoint: 'test' });
    const res = await carol.post('/action', { json: {} });
    expect(res.status, res.text).to.equal(403);
    expect(res.body.error).to.equal('two_factor_setup_required');
  });

  it('passing the second factor again ends the login a copy of the session still holds', async () => {
    const dave = await app.login('dave');
    const secret = await enrolOver(dave);
    const copy = new HttpClient(app.url);
    for (const [k, v] of dave.cookies) copy.cookies.set(k, v);
    expect((await copy.get('/app')).status).to.equal(200);
    const again = await dave.post('/2fa/step-up', { json: { code: generateCode(secret, Date.now()) } });
    expect(again.status, again.text).to.equal(200);
    expect((await dave.get('/app')).status).to.equal(200);
    const res = await copy.get('/app');
    expect(res.status, 'the copy of the session is no longer verified').to.equal(401);
    expect(res.body.error).to.equal('second_factor_required');
    expect(logs().filter((line) => line.includes('could not end'))).to.deep.equal([]);
  });
});

describe('security: a guard store that cannot end a login is logged, and the session is cleared anyway', () => {
  let app: MiniApp;
  let guard: MemoryGuardStore;
  before(async () => {
    guard = new MemoryGuardStore();
    app = await startMiniApp({
      twoFactor: { guard, stateCacheMs: 0 },
      routes(router) {
        router.get('/app', (ctx) => { ctx.body = { ok: true }; });
        router.get('/logout', (ctx) => { delete (ctx.session as { user?: string }).user; ctx.body = { out: true }; });
      },
    });
  });
  after(async () => {
    await app?.stop();
  });

  it('re-verifying while endLogin fails: the replaced login is logged, the new one works', async () => {
    const erin = await app.login('erin');
    const secret = await enrolOver(erin);
    const endLogin = guard.endLogin;
    guard.endLogin = () => Promise.reject(new Error('guard down'));
    try {
      const again = await erin.post('/2fa/step-up', { json: { code: generateCode(secret, Date.now()) } });
      expect(again.status, again.text).to.equal(200);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(app.logs.filter((line) => line.startsWith('koa-two-factor: could not end the replaced login: '))).to.have.length(1);
      expect((await erin.get('/app')).status).to.equal(200);
    } finally {
      guard.endLogin = endLogin;
    }
  });

  it('logging out while endLogin fails: logged, and the session\'s second factor is gone', async () => {
    const fred = await app.login('fred');
    await enrolOver(fred);
    guard.endLogin = () => Promise.reject(new Error('guard down'));
    try {
      const out = await fred.get('/logout');
      expect(out.status).to.equal(200);
      expect(app.logs.filter((line) => line.startsWith('koa-two-factor: could not end a verified login server-side (') && line.endsWith('); the session was cleared'))).to.have.length(1);
    } finally {
      delete (guard as { endLogin?: unknown }).endLogin;
    }
    await app.login('fred').then(async (again) => {
      const res = await again.get('/app');
      expect(res.status).to.equal(401);
    });
  });

  it('without a session middleware the package says what is missing', () => {
    expect(() => sessionOf({ session: () => null } as unknown as HttpRequest)).to.throw('koa-two-factor needs a session middleware (koa-session, express-session) mounted before it');
  });
});
