/**
 * 1b, on Express: `tf.gate` + `tf.router` called in-process on a real
 * request of a verified session, against a no-op middleware on the same one.
 *
 * The req/res are real: one GET through a loopback server, through
 * express-session, express.json, the passport-like user and the gate, to a
 * handler that runs the measurement on them and answers with the figures.
 * Between calls the one thing the gate leaves behind, its `res.end` wrapper,
 * is reset. `res.end` and `res.writeHead` are stubs during the loop, and
 * `res.end()` is called after every call in every arm: the gate's
 * after-request check (which runs when the app ends the response) is timed
 * with it; the head and body, which go out with or without the gate, are
 * not written.
 */
import type { RequestHandler, Response } from 'express';
import { twoFactor } from '../src/express/index.ts';
import { memorySessionStore } from './apps.ts';
import { createExpressSessionApp } from './express-apps.ts';
import type { GateMiddlewareCost } from './gate-middleware-cost.ts';
import { httpRequest } from './load.ts';
import { addedCost, countStoreReads, onLoopback, verifiedCookie } from './middleware-timing.ts';

export async function expressGateMiddlewareCost(o: { calls: number; repetitions: number }): Promise<GateMiddlewareCost> {
  const tf = twoFactor({ issuer: 'bench', logger: () => {} }); // in-memory stores: never touched within the cache
  const app = createExpressSessionApp({ keys: ['bench'], store: memorySessionStore(), tf });
  const noop: RequestHandler = (_req, _res, next) => next();

  app.get('/measure', (req, res, next) => {
    const storeReads = countStoreReads(tf.service);
    const real = { end: res.end, writeHead: res.writeHead };
    const restore = (): void => {
      res.end = real.end;
      res.writeHead = real.writeHead;
    };
    let ended: () => void = () => {};
    const stubEnd = function (this: Response) {
      ended();
      return this;
    } as Response['end'];
    res.writeHead = function (this: Response) {
      return this;
    } as Response['writeHead'];
    const finish = (): Promise<void> => new Promise((resolve) => {
      ended = resolve;
      res.end();
    });
    const through = (mw: RequestHandler, then: RequestHandler = noop): Promise<void> => new Promise((resolve, reject) => {
      mw(req, res, (err?: unknown) => (err ? reject(err) : then(req, res, (e?: unknown) => (e ? reject(e) : resolve()))));
    });
    addedCost<undefined>({
      context: () => {
        res.end = stubEnd;
        return undefined;
      },
      plain: () => through(noop).then(finish),
      both: () => through(tf.gate, tf.router).then(finish),
      gate: () => through(tf.gate).then(finish),
      routes: () => through(tf.router).then(finish),
    }, o).then((cost) => {
      restore();
      res.json({ ...cost, calls: o.calls, storeReads: storeReads() } satisfies GateMiddlewareCost);
    }, (err: unknown) => {
      restore();
      next(err);
    });
  });

  return onLoopback(app, async (port) => {
    const cookie = await verifiedCookie(port, tf.service, 'micro');
    const r = await httpRequest(port, 'GET', '/measure', { cookie });
    if (r.status !== 200) throw new Error(`measure: ${r.status} ${r.body}`);
    return JSON.parse(r.body) as GateMiddlewareCost;
  });
}
