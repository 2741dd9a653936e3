/**
 * 1b. The gate's own CPU cost, without the network: `tf.gate` + `tf.routes`
 *     called in-process on a Koa context of a verified session (within the
 *     state cache), against a no-op middleware on the same kind of context.
 *     On a busy 2-core machine the load-test ratios swing by several percent
 *     between rounds; this number does not depend on the other processes.
 *     (The Express twin: bench/express-gate-middleware-cost.ts.)
 */
import http from 'node:http';
import net from 'node:net';
import Koa from 'koa';
import { twoFactor } from '../src/index.ts';
import { createSessionApp, memorySessionStore, SESSION_COOKIE } from './apps.ts';
import { addedCost, countStoreReads, onLoopback, verifiedCookie, type AddedCost } from './middleware-timing.ts';

export interface GateMiddlewareCost extends AddedCost {
  calls: number;
  /** Store reads the gate made during the measurement (0 within the cache). */
  storeReads: number;
}

/** A real verified session, made through the routes on an in-memory app. */
async function verifiedSession(tf: ReturnType<typeof twoFactor>): Promise<Record<string, unknown>> {
  const store = memorySessionStore();
  const app = createSessionApp({ keys: ['bench'], store, tf });
  const cookie = await onLoopback(app.callback(), (port) => verifiedCookie(port, tf.service, 'micro'));
  const sid = /(?:^|; )sid=([^;]+)/.exec(cookie)?.[1];
  const sess = sid ? await store.get(sid) : undefined;
  if (!sess) throw new Error(`no ${SESSION_COOKIE} session after verification`);
  return sess;
}

export async function gateMiddlewareCost(o: { calls: number; repetitions: number }): Promise<GateMiddlewareCost> {
  const tf = twoFactor({ issuer: 'bench', logger: () => {} }); // in-memory stores: never touched within the cache
  const sess = await verifiedSession(tf);
  const storeReads = countStoreReads(tf.service);

  const app = new Koa();
  const socket = new net.Socket();
  const end = async (): Promise<void> => {};
  const noop: Koa.Middleware = (_ctx, next) => next();
  const cost = await addedCost<Koa.Context>({
    context: () => {
      const req = new http.IncomingMessage(socket);
      req.method = 'GET';
      req.url = '/protected';
      req.headers = { host: '127.0.0.1', accept: 'application/json' };
      const ctx = app.createContext(req, new http.ServerResponse(req)) as Koa.Context;
      (ctx as unknown as { session: unknown }).session = sess;
      ctx.state['user'] = { id: 'micro', username: 'micro' };
      return ctx;
    },
    plain: (ctx) => noop(ctx, end) as Promise<unknown>,
    both: (ctx) => tf.gate(ctx, () => tf.routes(ctx, end)) as Promise<unknown>,
    gate: (ctx) => tf.gate(ctx, end) as Promise<unknown>,
    routes: (ctx) => tf.routes(ctx, end) as Promise<unknown>,
  }, o);
  socket.destroy();
  return { ...cost, calls: o.calls, storeReads: storeReads() };
}
