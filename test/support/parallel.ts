/**
 * Small helpers for the security tests: firing requests at once, tallying
 * answers, wrong codes that stay wrong, and raw request bodies the JSON
 * client cannot send.
 */
import { generateCode } from '../../src/index.ts';
import { realNow } from './clock.ts';
import type { HttpClient, HttpResponse } from './http-client.ts';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `fn(0..n-1)` concurrently. Every call is created before any is
 * awaited, so the requests are in flight together.
 */
export function inParallel<T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
}

/** `{ '200': 1, '401 invalid_code': 49 }`: how many answers of each kind. */
export function tally(responses: HttpResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of responses) {
    const error = r.body && typeof r.body === 'object' && typeof r.body.error === 'string' ? ` ${r.body.error}` : '';
    const key = `${r.status}${error}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * `n` distinct 6-digit codes that are not the code of `secret` at any step
 * from `-3` to `+4` around now: they stay wrong even if the test crosses a
 * step boundary or two while it runs.
 */
export function wrongCodes(secret: string, n: number): string[] {
  const now = realNow();
  const near = new Set<string>();
  for (let k = -3; k <= 4; k++) near.add(generateCode(secret, now + k * 30_000));
  const out: string[] = [];
  for (let x = 100_000; out.length < n; x += 7_919) {
    const code = String(x % 1_000_000).padStart(6, '0');
    if (!near.has(code) && !out.includes(code)) out.push(code);
  }
  return out;
}

/**
 * A POST with an arbitrary body and content type, carrying the client's
 * cookies (HttpClient always serialises its body itself). Answers JSON.
 */
export async function rawPost(client: HttpClient, path: string, contentType: string, body: string): Promise<HttpResponse> {
  const headers: Record<string, string> = { 'content-type': contentType, accept: 'application/json' };
  if (client.cookies.size > 0) headers.cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(new URL(path, client.baseUrl), { method: 'POST', headers, body, redirect: 'manual' });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('application/json')) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Polls `probe` every `everyMs` until it returns true or `withinMs` passes; returns the time it took. */
export async function waitUntil(probe: () => Promise<boolean>, withinMs: number, everyMs = 100): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await probe().catch(() => false)) return Date.now() - start;
    if (Date.now() - start > withinMs) throw new Error(`condition not met within ${withinMs} ms`);
    await sleep(everyMs);
  }
}

/**
 * Waits until the app's 2FA store answers. A client made with
 * `createRedisClient` has no offline queue: requests that come before its
 * connection is up fail (closed) instead of waiting for it.
 */
export async function storeReady(service: { sessionState(userId: string): Promise<unknown> }, withinMs = 5_000): Promise<void> {
  await waitUntil(() => service.sessionState('readiness-probe').then(() => true), withinMs, 20);
}
