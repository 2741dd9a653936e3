/**
 * REDIS_URL / `--redis` (and `--cluster` seed nodes) → an ioredis client for
 * the command line. ioredis is an optional peer dependency of the package,
 * so it is loaded only here, when a command needs Redis.
 *
 * Unlike the app's client (src/stores/redis-client.ts) this one does not
 * reconnect: a command that loses Redis stops with an error, and every
 * command can simply be run again.
 */
import type { Cluster, Redis } from 'ioredis';
import { CliError, messageOf } from './cli-io.ts';

/** How long reaching Redis may take before the command gives up. */
export const CONNECT_TIMEOUT_MS = 3000;
/** Per-command deadline: long enough for a SCAN or a script on a busy server. */
const COMMAND_TIMEOUT_MS = 15_000;

export interface Connection {
  /** The client the stores use: a `Redis`, or a `Cluster`. */
  client: Redis | Cluster;
  isCluster: boolean;
  /** The server, or every master of the Cluster (SCAN, INFO and the like go to each). */
  masters(): Redis[];
  /** `host:port` of a node, for reports. */
  label(node: Redis): string;
  /** What was connected to, without credentials. */
  target: string;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** `--redis`: a URL, or with `cluster` comma-separated seed nodes. Default: `REDIS_URL`. */
  redis?: string | undefined;
  cluster?: boolean | undefined;
}

type IoRedis = typeof import('ioredis');

async function loadIoredis(): Promise<IoRedis> {
  try {
    const mod = (await import('ioredis')) as IoRedis & { default?: IoRedis };
    return mod.Redis ? mod : mod.default!;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new CliError('ioredis is not installed: install ioredis (npm install ioredis) to use this command');
    }
    throw err;
  }
}

/** `host:port` or a URL → a URL (`redis://` assumed). */
function parseNode(spec: string): URL {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(spec) ? spec : `redis://${spec}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`not a Redis URL: "${spec.replace(/\/\/[^@/]*@/, '//…@')}" (expected redis://host:port or rediss://host:port)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new CliError(`not a Redis URL: ${url.protocol}// (expected redis:// or rediss://)`);
  return url;
}

function hostPort(url: URL): string {
  return `${url.hostname}:${url.port || '6379'}`;
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); }),
  ]);
}

/** What the options and `env` name, as host:port list without credentials, for reports; '' when nothing or unreadable. */
export function describeTarget(o: ConnectOptions, env: Record<string, string | undefined>): string {
  try {
    return (o.redis ?? env['REDIS_URL'] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((s) => hostPort(parseNode(s))).join(',');
  } catch {
    return '';
  }
}

/** Connects to the Redis the options and `env` name, or fails with a one-line `CliError` within a few seconds. */
export async function connect(o: ConnectOptions, env: Record<string, string | undefined>): Promise<Connection> {
  const spec = (o.redis ?? env['REDIS_URL'] ?? '').trim();
  if (!spec) throw new CliError('no Redis given: set REDIS_URL or pass --redis redis://host:port (with --cluster: seed nodes, comma-separated)');
  const urls = spec.split(',').map((s) => s.trim()).filter(Boolean).map(parseNode);
  if (urls.length > 1 && !o.cluster) throw new CliError('several Redis URLs given: add --cluster for the seed nodes of a Redis Cluster');
  const { Redis: RedisClass, Cluster: ClusterClass } = await loadIoredis();
  const first = urls[0]!;
  const target = urls.map(hostPort).join(',');
  const nodeOptions = {
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
    ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
    ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  let client: Redis | Cluster;
  if (o.cluster) {
    client = new ClusterClass(urls.map((u) => ({ host: u.hostname, port: Number(u.port || 6379) })), {
      lazyConnect: true,
      // Connect even to a Cluster whose state is `fail`: doctor is there to say why.
      enableReadyCheck: false,
      clusterRetryStrategy: () => null,
      slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
      redisOptions: nodeOptions,
    });
  } else {
    client = new RedisClass(first.toString(), { ...nodeOptions, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
  }
  // Errors reach the commands that fail; without a listener ioredis prints each one.
  // On one server the first says why better than the rejection ("Connection is closed");
  // a Cluster's rejection ("None of startup nodes is available") says it best.
  let firstError: unknown;
  client.on('error', (err: unknown) => { firstError ??= err; });
  try {
    await withTimeout(client.connect(), CONNECT_TIMEOUT_MS + 2000, `no answer within ${(CONNECT_TIMEOUT_MS + 2000) / 1000} s`);
    if (!o.cluster) await client.ping();
  } catch (err) {
    // After a refused connection the client has ended already; disconnect() would wait 2 s on a stream that never opened.
    if (client.status !== 'end') client.disconnect();
    throw new CliError(`cannot reach Redis at ${target}: ${messageOf(o.cluster ? err : firstError ?? err)}`);
  }
  const cluster = o.cluster ? (client as Cluster) : undefined;
  return {
    client,
    isCluster: cluster !== undefined,
    target,
    masters: () => (cluster ? cluster.nodes('master') : [client as Redis]),
    label: (node) => `${node.options.host ?? first.hostname}:${node.options.port ?? 6379}`,
    async close() {
      try {
        await withTimeout(client.quit(), 2000, 'quit timed out');
      } catch {
        client.disconnect();
      }
    },
  };
}
