/**
 * What the in-process gate measurements share, whatever the framework:
 * a verified session made through the real routes on a loopback server,
 * a count of the gate's store reads, and the timing (each arm against a
 * no-op on the same kind of request, repetitions alternated, median).
 */
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateCode } from '../src/index.ts';
import type { TwoFactorService } from '../src/core/two-factor-service.ts';
import { httpRequest, sessionCookie } from './load.ts';

/** Runs `fn` with `handler` listening on a free loopback port, then closes it. */
export async function onLoopback<T>(handler: RequestListener, fn: (port: number) => Promise<T>): Promise<T> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  try {
    return await fn((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Enrols `uid`, logs in (POST /login) and passes the second factor (POST /2fa/verify): the session's cookie. */
export async function verifiedCookie(port: number, service: TwoFactorService, uid: string): Promise<string> {
  const info = { endpoint: 'bench' };
  const started = await service.startEnrolment(uid, uid, 'Phone', info);
  await service.confirmEnrolment(uid, started.enrolmentId, generateCode(started.secret, Date.now() - 30_000), info);
  const cookie = sessionCookie(await httpRequest(port, 'POST', '/login', {}, { uid }));
  const verified = await httpRequest(port, 'POST', '/2fa/verify', { cookie }, { code: generateCode(started.secret, Date.now()) });
  if (verified.status !== 200) throw new Error(`verify: ${verified.status} ${verified.body}`);
  return sessionCookie(verified, cookie);
}

/** Counts the reads the gate's state cache makes (`service.sessionFacts`). */
export function countStoreReads(service: TwoFactorService): () => number {
  let reads = 0;
  const sessionFacts = service.sessionFacts.bind(service);
  service.sessionFacts = (uid, login) => {
    reads++;
    return sessionFacts(uid, login);
  };
  return () => reads;
}

/** The middleware under test, each called on a fresh `context()`; `plain` is the no-op it is measured against. */
export interface Arms<C> {
  context(): C;
  plain(c: C): Promise<unknown>;
  /** gate + routes, as mounted. */
  both(c: C): Promise<unknown>;
  gate(c: C): Promise<unknown>;
  routes(c: C): Promise<unknown>;
}

export interface AddedCost {
  /** Median over repetitions of (gate + routes) − no-op, µs per request. */
  addedMicros: number;
  /** The same for each alone. */
  gateMicros: number;
  routesMicros: number;
  samples: number[];
}

export async function addedCost<C>(arms: Arms<C>, o: { calls: number; repetitions: number }): Promise<AddedCost> {
  const time = async (run: (c: C) => Promise<unknown>): Promise<number> => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < o.calls; i++) await run(arms.context());
    return Number(process.hrtime.bigint() - t0) / 1000 / o.calls;
  };
  await time(arms.both);
  await time(arms.plain);
  const medianAdded = async (run: (c: C) => Promise<unknown>): Promise<{ median: number; samples: number[] }> => {
    const samples: number[] = [];
    for (let r = 0; r < o.repetitions; r++) {
      let base: number;
      let with_: number;
      if (r % 2 === 0) {
        base = await time(arms.plain);
        with_ = await time(run);
      } else {
        with_ = await time(run);
        base = await time(arms.plain);
      }
      samples.push(with_ - base);
    }
    const sorted = [...samples].sort((x, y) => x - y);
    return { median: sorted[Math.floor(sorted.length / 2)]!, samples };
  };
  const both = await medianAdded(arms.both);
  const gate = await medianAdded(arms.gate);
  const routes = await medianAdded(arms.routes);
  return { addedMicros: both.median, gateMicros: gate.median, routesMicros: routes.median, samples: both.samples };
}
