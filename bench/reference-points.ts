/**
 * 3. Reference points on the same machine in the same run: Koa alone (no
 *    session), and Koa doing only the TOTP HMACs of one device with window ±1
 *    (no store, no session, no decryption).
 */
import type { BenchContext } from './context.ts';
import { okCount, runLoad, statusSummary, type LoadResult } from './load.ts';
import type { AppName } from './server-process.ts';

export interface ReferenceResult { app: AppName; label: string; load: LoadResult; cpuMicros: number }

export async function referencePoints(ctx: BenchContext, o: { connections: number; warmupSeconds: number; seconds: number }, log: (m: string) => void): Promise<ReferenceResult[]> {
  const points = [
    { app: 'bare', label: 'bare Koa endpoint (no session)' },
    { app: 'totp', label: 'Koa + matchTimeStep, 1 device, window ±1 (3 HMAC-SHA1, wrong code)' },
  ] as const;
  const out: ReferenceResult[] = [];
  for (const p of points) {
    const requests = [{ method: 'GET', path: '/', headers: { accept: 'application/json' } }];
    await runLoad({ url: ctx.url(p.app), connections: o.connections, duration: o.warmupSeconds, requests });
    const cpuBefore = await ctx.serverCpuMicros();
    const load = await runLoad({ url: ctx.url(p.app), connections: o.connections, duration: o.seconds, requests });
    const cpuMicros = (await ctx.serverCpuMicros()) - cpuBefore;
    if (okCount(load) !== load.requests) throw new Error(`${p.app}: ${statusSummary(load)}`);
    log(`  ${p.app}: ${Math.round(load.requests / load.seconds)} req/s`);
    out.push({ app: p.app, label: p.label, load, cpuMicros });
  }
  return out;
}
