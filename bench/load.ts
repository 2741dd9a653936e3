/**
 * Load and plumbing: autocannon runs that keep every response time (so runs
 * can be merged and percentiles read at sub-millisecond resolution), a
 * keep-alive HTTP helper for setting things up, and a concurrency pool.
 */
import http from 'node:http';
import autocannon from 'autocannon';

export interface LoadResult {
  requests: number;
  seconds: number;
  /** Response times in ms, unsorted. */
  latencies: number[];
  statuses: Map<number, number>;
  errors: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  /** Seconds; or `amount` requests. */
  duration?: number;
  amount?: number;
  requests: autocannon.Request[];
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const opts: autocannon.Options = { url: o.url, connections: o.connections, requests: o.requests, timeout: 10, sampleInt: 100 };
  if (o.amount !== undefined) opts.amount = o.amount;
  else opts.duration = o.duration ?? 5;
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const started = performance.now();
  let lastResponse = started;
  const instance = autocannon(opts);
  instance.on('response', (_client, status, _bytes, ms) => {
    lastResponse = performance.now();
    latencies.push(ms);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  });
  const result = await instance;
  // From the start to the last response: autocannon itself only notices the
  // end of a run at its next sample tick.
  const seconds = (lastResponse - started) / 1000;
  return { requests: latencies.length, seconds, latencies, statuses, errors: result.errors };
}

/** Several runs of one configuration as one. */
export function mergeLoads(runs: LoadResult[]): LoadResult {
  const statuses = new Map<number, number>();
  for (const r of runs) for (const [s, n] of r.statuses) statuses.set(s, (statuses.get(s) ?? 0) + n);
  return {
    requests: runs.reduce((a, r) => a + r.requests, 0),
    seconds: runs.reduce((a, r) => a + r.seconds, 0),
    latencies: runs.flatMap((r) => r.latencies),
    statuses,
    errors: runs.reduce((a, r) => a + r.errors, 0),
  };
}

export function percentile(sortedAsc: number[], p: number): number {
  if (sortedAsc.length === 0) return NaN;
  const i = Math.min(sortedAsc.length - 1, Math.max(0, Math.ceil((p / 100) * sortedAsc.length) - 1));
  return sortedAsc[i]!;
}

export function latencySummary(r: LoadResult): { p50: number; p99: number; max: number } {
  const sorted = Float64Array.from(r.latencies).sort();
  const arr = Array.from(sorted);
  return { p50: percentile(arr, 50), p99: percentile(arr, 99), max: arr[arr.length - 1] ?? NaN };
}

export function okCount(r: LoadResult): number {
  let n = 0;
  for (const [s, c] of r.statuses) if (s >= 200 && s < 300) n += c;
  return n;
}

export function statusSummary(r: LoadResult): string {
  return [...r.statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ') + (r.errors ? ` errors×${r.errors}` : '');
}

// ---------------------------------------------------------------------------
// Setup traffic (logins, verifications): plain keep-alive HTTP.

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export interface HttpReply { status: number; headers: http.IncomingHttpHeaders; body: string }

export function httpRequest(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<HttpReply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method, path, agent,
      headers: { accept: 'application/json', ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}), ...headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * A `Cookie` header for the session cookies a reply set (koa-session signs:
 * `sid` and `sid.sig`), or the previous header when the reply set none.
 */
export function sessionCookie(reply: HttpReply, previous = ''): string {
  const set = reply.headers['set-cookie'] ?? [];
  const jar = new Map(previous.split('; ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
  for (const line of set) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq);
    const value = pair!.slice(eq + 1);
    if (value === '') jar.delete(name);
    else jar.set(name, value);
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function pool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

export function closeHttpAgent(): void {
  agent.destroy();
}
