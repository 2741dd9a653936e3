/**
 * Many Express apps answer a request themselves when it takes too long (a
 * timeout middleware in front of everything). When that happens while the
 * package is still waiting for its store, the package's own answer comes
 * too late: it is dropped — never thrown where nobody catches it (an
 * unhandled rejection ends a Node process), nor left to Express' final
 * handler (which logs it and cuts the connection). For the gate, a 2FA route
 * and requireStepUp (Express 5 and 4).
 */
import { expect } from 'chai';
import type { RequestHandler } from 'express';
import { MemoryRecordStore, type RecordStore } from '../../src/index.ts';
import { enrolOverJson, startCarelessExpressApp, type CarelessExpressApp } from '../support/careless-express-app.ts';
import type { HttpClient } from '../support/http-client.ts';

const STORE_DELAY_MS = 150;
const APP_TIMEOUT_MS = 40;

/** A record store that answers `STORE_DELAY_MS` late while `slow.on` is set. */
function slowRecords(slow: { on: boolean }): RecordStore {
  const inner = new MemoryRecordStore();
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (slow.on) await new Promise((resolve) => setTimeout(resolve, STORE_DELAY_MS));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** The app's request timeout (only while the store is slow, so that setting up is not timed out on a busy machine). */
function requestTimeout(slow: { on: boolean }): RequestHandler {
  return (_req, res, next) => {
    if (!slow.on) return next();
    const timer = setTimeout(() => {
      if (!res.headersSent) res.status(503).json({ error: 'timeout' });
    }, APP_TIMEOUT_MS);
    res.on('finish', () => clearTimeout(timer));
    next();
  };
}

for (const major of [5, 4] as const) {
  describe(`Express ${major} adapter: the app answered first (its own timeout)`, () => {
    const slow = { on: false };
    // A Set: mocha re-emits each unhandled rejection once more.
    const rejections = new Set<unknown>();
    const onRejection = (reason: unknown) => { rejections.add(reason); };
    let app: CarelessExpressApp;
    let half: HttpClient;
    let verified: HttpClient;

    before(async () => {
      // `/remote/sudo` wants a second factor passed within 1 ms: requireStepUp refuses, late.
      app = await startCarelessExpressApp({ express: major, sudoMaxAgeMs: 1, beforePackage: [requestTimeout(slow)], twoFactor: { records: slowRecords(slow), stateCacheMs: 0 } });
      verified = await app.login();
      await enrolOverJson(verified);
      half = await app.login();
      process.on('unhandledRejection', onRejection);
    });
    after(async () => {
      process.off('unhandledRejection', onRejection);
      slow.on = false;
      await app.stop();
    });
    beforeEach(() => { slow.on = true; rejections.clear(); });

    for (const [door, who, path] of [['the gate', 'half', '/app'], ['a 2FA route', 'half', '/2fa'], ['requireStepUp', 'verified', '/remote/sudo']] as const) {
      it(`${door} (${path}): the app's 503 goes out, the package's late answer is not an unhandled rejection`, async () => {
        const res = await (who === 'half' ? half : verified).get(path);
        expect(res.status).to.equal(503);
        expect(res.body).to.deep.equal({ error: 'timeout' });
        // Let the package finish with the store.
        await new Promise((resolve) => setTimeout(resolve, STORE_DELAY_MS * 3));
        expect([...rejections].map(String)).to.deep.equal([]);
        expect(app.unhandled.map(String), "errors left to Express").to.deep.equal([]);
        // The package's work was done (its answer dropped): the app is still serving.
        slow.on = false;
        expect((await verified.get('/app')).status).to.equal(200);
      });
    }
  });
}
