/**
 * 1b. The gate's own CPU cost, without the network: `tf.gate` + `tf.routes`
 *     called in-process on a Koa context of a verified session (within the
 *     state cache), against a no-op middleware on the same kind of context.
 *     On a busy 2-core machine the load-test ratios swing by several percent
 *     between rounds; this number does not depend on the other processes.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { generateCode, twoFactor } from '../src/index.ts';
import { createSessionApp, memorySessionStore, SESSION_COOKIE } from './apps.ts';
import { httpRequest, sessionCookie } from './load.ts';

export interface GateMiddlewareCost {
  /** Median over repetitions of (gate + routes) − no-op, µs per request. */
  addedMicros: number;
  /** The same for each alone. */
  gateMicros: number;
  routesMicros: number;
  samples: number[];
  calls: number;
  /** Store reads the gate made during the measurement (0 within the cache). */
  storeReads: number;
}

/** A real verified session, made through the routes on an in-memory app. */
async function verifiedSession(tf: ReturnType<typeof twoFactor>): Promise<Record<string, unknown>> {
  const store = memorySessionStore();
  const app = createSessionApp({ keys: ['bench'], store, tf });
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    const port = (server.address() as AddressInfo).port;
    const info = { endpoint: 'bench' };
    const started = await tf.service.startEnrolment('micro', 'micro', 'Phone', info);
    await tf.service.confirmEnrolment('micro', started.enrolmentId, generateCode(started.secret, Date.now() - 30_000), info);
    const cookie = sessionCookie(await httpRequest(port, 'POST', '/login', {}, { uid: 'micro' }));
    const verified = await httpRequest(port, 'POST', '/2fa/verify', { cookie }, { code: generateCode(started.secret, Date.now()) });
    if (verified.status !== 200) throw new Error(`verify: ${verified.status} ${verified.body}`);
    const sid = /(?:^|; )sid=([^;]+)/.exec(sessionCookie(verified, cookie))?.[1];
    const sess = sid ? await store.get(sid) : undefined;
    if (!sess) throw new Error(`no ${SESSION_COOKIE} session after verification`);
    return sess;
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export async function gateMiddlewareCost(o: { calls: number; repetitions: number }): Promise<GateMiddlewareCost> {
  const tf = twoFactor({ issuer: 'bench', logger: () => {} }); // in-memory stores: never touched within the cache
  const sess = await verifiedSession(tf);
  let storeReads = 0;
  const sessionState = tf.service.sessionState.bind(tf.service);
  tf.service.sessionState = (uid: string) => {
    storeReads++;
    return sessionState(uid);
  };

  const app = new Koa();
  const socket = new net.Socket();
  const context = (): Koa.Context => {
    const req = new http.IncomingMessage(socket);
    req.method = 'GET';
    req.url = '/protected';
    req.headers = { host: '127.0.0.1', accept: 'application/json' };
    const ctx = app.createContext(req, new http.ServerResponse(req)) as Koa.Context;
    (ctx as unknown as { session: unknown }).session = sess;
    ctx.state['user'] = { id: 'micro', username: 'micro' };
    return ctx;
  };
  const end = async (): Promise<void> => {};
  const noop: Koa.Middleware = (_ctx, next) => next();
  const gated = (ctx: Koa.Context): Promise<unknown> => tf.gate(ctx, () => tf.routes(ctx, end)) as Promise<unknown>;
  const plain = (ctx: Koa.Context): Promise<unknown> => noop(ctx, end) as Promise<unknown>;

  const time = async (run: (ctx: Koa.Context) => Promise<unknown>): Promise<number> => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < o.calls; i++) await run(context());
    return Number(process.hrtime.bigint() - t0) / 1000 / o.calls;
  };
  await time(gated);
  await time(plain);
  const gateAlone = (ctx: Koa.Context): Promise<unknown> => tf.gate(ctx, end) as Promise<unknown>;
  const routesAlone = (ctx: Koa.Context): Promise<unknown> => tf.routes(ctx, end) as Promise<unknown>;
  const medianAdded = async (run: (ctx: Koa.Context) => Promise<unknown>): Promise<{ median: number; samples: number[] }> => {
    const samples: number[] = [];
    for (let r = 0; r < o.repetitions; r++) {
      let base: number;
      let with_: number;
      if (r % 2 === 0) {
        base = await time(plain);
        with_ = await time(run);
      } else {
        with_ = await time(run);
        base = await time(plain);
      }
      samples.push(with_ - base);
    }
    const sorted = [...samples].sort((x, y) => x - y);
    return { median: sorted[Math.floor(sorted.length / 2)]!, samples };
  };
  const both = await medianAdded(gated);
  const gate = await medianAdded(gateAlone);
  const routes = await medianAdded(routesAlone);
  socket.destroy();
  return { addedMicros: both.median, gateMicros: gate.median, routesMicros: routes.median, samples: both.samples, calls: o.calls, storeReads };
}
