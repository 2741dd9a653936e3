/**
 * Test harness: throw-away `redis-server` processes (standalone and a
 * 3-master cluster) on random loopback ports, each with its own temp dir.
 *
 * Never touches a Redis it did not start (in particular the machine's own
 * server on 6379): ports are always picked by probing, and 6379/16379 are
 * never chosen.
 */
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';

const execFileAsync = promisify(execFile);

const HOST = '127.0.0.1';
const REDIS_SERVER_BIN = process.env['REDIS_SERVER_BIN'] ?? 'redis-server';
const REDIS_CLI_BIN = process.env['REDIS_CLI_BIN'] ?? 'redis-cli';
const DEFAULT_START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const CLUSTER_BUS_OFFSET = 10_000;
const LOG_TAIL_BYTES = 4_096;

export interface StartRedisOptions {
  /** Port to listen on; default: a free port picked by probing. */
  port?: number;
  /** Extra `redis-server` arguments, appended after the defaults. */
  args?: readonly string[];
  /** How long to wait for PING to answer (default 10 s). */
  startTimeoutMs?: number;
}

export interface RedisProcess {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** The server's working directory (a fresh mkdtemp dir). */
  readonly dir: string;
  /** PID of the current redis-server process, or undefined when not running. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** SIGTERM, wait for exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL (simulated outage), wait for exit. Keeps port and dir for restart(). */
  kill(): Promise<void>;
  /** Start again on the same port and dir (stopping first if running); waits for PING. */
  restart(): Promise<void>;
  /** Last few KB of the server's stdout/stderr, for diagnostics. */
  logs(): string;
}

export interface RedisClusterNode {
  host: string;
  port: number;
}

export interface RedisCluster {
  /** Seed nodes for `new Cluster(nodes)`. */
  readonly nodes: RedisClusterNode[];
  /** The underlying master processes (e.g. to kill one). */
  readonly servers: RedisProcess[];
  /** Stop every node. Idempotent. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Cleanup of children if the test process goes away.

const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHooksInstalled = false;

function killAllNow(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
  for (const dir of liveDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
  liveDirs.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllNow();
      // Restore default behaviour unless someone else handles the signal.
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/**
 * If util-linux `setpriv --pdeathsig` works, wrap redis-server with it so the
 * kernel SIGKILLs the server even when the test process itself is SIGKILLed.
 * setpriv exec()s redis-server, so the child PID is the server's PID.
 */
let pdeathsigSupported: boolean | undefined;
function commandFor(args: readonly string[]): [string, string[]] {
  if (pdeathsigSupported === undefined) {
    const probe = spawnSync('setpriv', ['--pdeathsig', 'KILL', 'true'], { stdio: 'ignore' });
    pdeathsigSupported = probe.status === 0;
  }
  return pdeathsigSupported
    ? ['setpriv', ['--pdeathsig', 'KILL', REDIS_SERVER_BIN, ...args]]
    : [REDIS_SERVER_BIN, [...args]];
}

// ---------------------------------------------------------------------------
// Ports.

/** A port the OS reports free on 127.0.0.1 right now (listen on :0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: unexpected server address'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** True if `port` can be bound on 127.0.0.1 right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: HOST, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

const RESERVED_PORTS = new Set([6379, 16379, 26379]);
/** Ports handed out by this process, so concurrent starts don't collide. */
const handedOut = new Set<number>();

/** Linux's ephemeral port range (outgoing connections take ports from it), or the usual default. */
export function ephemeralPortRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && lo! > 0 && hi! >= lo!) return [lo!, hi!];
  } catch {
    // not Linux, or no /proc: assume the default below
  }
  return [32_768, 60_999];
}

/** Lowest node port considered: clear of the well-known and most registered service ports. */
const CLUSTER_PORT_MIN = 10_000;

/**
 * The node ports `P` for which neither `P` nor its cluster bus port
 * `P + 10000` is in the ephemeral range, where any outgoing connection of
 * the machine (this test's own clients included) may take it at any moment.
 */
export function clusterPortCandidates(range = ephemeralPortRange()): [number, number][] {
  const [lo, hi] = range;
  const outside = (p: number) => p < lo || p > hi;
  const intervals: [number, number][] = [];
  let start: number | undefined;
  for (let p = CLUSTER_PORT_MIN; p <= 65_535 - CLUSTER_BUS_OFFSET + 1; p++) {
    const ok = p <= 65_535 - CLUSTER_BUS_OFFSET && outside(p) && outside(p + CLUSTER_BUS_OFFSET);
    if (ok && start === undefined) start = p;
    if (!ok && start !== undefined) {
      intervals.push([start, p - 1]);
      start = undefined;
    }
  }
  return intervals;
}

/**
 * A free port `P` such that `P + 10000` (the cluster bus port) is also
 * free, both outside the ephemeral range (e.g. 10000..22767 for Linux's
 * default 32768..60999). Falls back to any pair when the range leaves none.
 */
export async function freeClusterPort(): Promise<number> {
  let intervals = clusterPortCandidates();
  if (intervals.length === 0) intervals = [[CLUSTER_PORT_MIN, 65_535 - CLUSTER_BUS_OFFSET]];
  const total = intervals.reduce((n, [a, b]) => n + b - a + 1, 0);
  for (let attempt = 0; attempt < 200; attempt++) {
    let k = Math.floor(Math.random() * total);
    let port = 0;
    for (const [a, b] of intervals) {
      if (k <= b - a) {
        port = a + k;
        break;
      }
      k -= b - a + 1;
    }
    const bus = port + CLUSTER_BUS_OFFSET;
    if (RESERVED_PORTS.has(port) || RESERVED_PORTS.has(bus)) continue;
    if (handedOut.has(port) || handedOut.has(bus)) continue;
    if ((await isPortFree(port)) && (await isPortFree(bus))) {
      handedOut.add(port);
      handedOut.add(bus);
      return port;
    }
  }
  throw new Error('freeClusterPort: no free port pair (P, P+10000) found');
}

async function pickServerPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    if (!RESERVED_PORTS.has(port) && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('startRedis: could not find a free port');
}

// ---------------------------------------------------------------------------
// Readiness probing.

/**
 * Send one inline command over a raw socket; resolve with the complete raw
 * RESP reply (simple string, error, integer or bulk string).
 */
function rawCommand(port: number, command: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    let settled = false;
    const socket: Socket = createConnection({ host: HOST, port });
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(data.toString('utf8'));
    };
    const complete = (): boolean => {
      const eol = data.indexOf('\r\n');
      if (eol < 0) return false;
      if (data[0] !== 0x24 /* '$' */) return true;
      const len = Number(data.subarray(1, eol).toString('latin1'));
      return len < 0 || data.length >= eol + 2 + len + 2;
    };
    const timer = setTimeout(() => finish(new Error(`timeout waiting for reply to ${command}`)), timeoutMs);
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (complete()) finish(null);
    });
    socket.once('error', (err) => finish(err));
    socket.once('close', () => finish(new Error('connection closed before a complete reply')));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------
// A single server process.

class ServerProcess implements RedisProcess {
  readonly host = HOST;
  readonly url: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private logTail = '';
  private dirRemoved = false;

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: readonly string[],
    private readonly startTimeoutMs: number,
  ) {
    this.url = `redis://${HOST}:${port}`;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    const child = this.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  logs(): string {
    return this.logTail;
  }

  private appendLog(chunk: Buffer | string): void {
    this.logTail = (this.logTail + chunk.toString()).slice(-LOG_TAIL_BYTES);
  }

  /** Spawn and wait until PING answers. */
  async start(): Promise<void> {
    installExitHooks();
    if (this.dirRemoved) {
      mkdirSync(this.dir, { recursive: true });
      this.dirRemoved = false;
    }
    liveDirs.add(this.dir);

    const [cmd, argv] = commandFor(this.args);
    const child = spawn(cmd, argv, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    liveChildren.add(child);

    let spawnError: Error | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        spawnError = err;
        liveChildren.delete(child);
        resolve();
      });
      child.once('exit', () => {
        liveChildren.delete(child);
        resolve();
      });
    });
    const closed = new Promise<void>((resolve) => {
      child.once('close', () => resolve());
      child.once('error', () => resolve());
    });
    child.stdout?.on('data', (c: Buffer) => this.appendLog(c));
    child.stderr?.on('data', (c: Buffer) => this.appendLog(c));
    // A forgotten stop() must not keep mocha alive; the exit hook reaps it.
    // Every wait below holds its own (ref'd) timer.
    child.unref();
    (child.stdout as unknown as Socket | null)?.unref?.();
    (child.stderr as unknown as Socket | null)?.unref?.();

    const deadline = Date.now() + this.startTimeoutMs;
    let lastError = 'no reply yet';
    while (Date.now() < deadline) {
      if (!this.running || spawnError) {
        await this.exited;
        // 'close' fires once stdout/stderr are drained: wait (briefly) for the last log lines.
        await Promise.race([closed, sleep(1_000)]);
        throw new Error(
          `redis-server on port ${this.port} exited during startup` +
            (spawnError ? ` (${spawnError.message})` : ` (code ${child.exitCode}, signal ${child.signalCode})`) +
            `\n--- redis-server output ---\n${this.logTail}`,
        );
      }
      try {
        // INFO rather than PING so we can check the answer comes from *our*
        // process and not from something else already listening on the port.
        const reply = await rawCommand(this.port, 'INFO server');
        if (reply.startsWith('-NOAUTH')) return; // requirepass set: up, can't verify pid
        const pid = /^process_id:(\d+)\r?$/m.exec(reply)?.[1];
        if (pid !== undefined && Number(pid) === child.pid) return;
        lastError =
          pid !== undefined
            ? `port ${this.port} is answered by another process (pid ${pid})`
            : `unexpected reply ${JSON.stringify(reply.slice(0, 200).trim())}`;
      } catch (err) {
        lastError = (err as Error).message;
      }
      await sleep(25);
    }
    await this.terminate('SIGKILL');
    throw new Error(
      `redis-server on port ${this.port} did not become ready (PING/INFO) within ${this.startTimeoutMs} ms (${lastError})` +
        `\n--- redis-server output ---\n${this.logTail}`,
    );
  }

  /** Send `signal` and wait for exit; escalate to SIGKILL after a timeout. */
  private async terminate(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) {
      await this.exited;
      return;
    }
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      child.kill('SIGKILL');
      await this.exited;
    }
  }

  async stop(): Promise<void> {
    await this.terminate('SIGTERM');
    if (!this.dirRemoved) {
      rmSync(this.dir, { recursive: true, force: true });
      this.dirRemoved = true;
      liveDirs.delete(this.dir);
    }
  }

  async kill(): Promise<void> {
    await this.terminate('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.terminate('SIGTERM');
    await this.start();
  }
}

function baseArgs(port: number, dir: string): string[] {
  return ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir];
}

function makeTmpDir(): string {
  return mkdtempSync(join(tmpdir(), 'koa-two-factor-redis-'));
}

function isAddressInUse(err: unknown): boolean {
  return err instanceof Error && /address already in use/i.test(err.message);
}

/**
 * Start a fresh standalone redis-server on 127.0.0.1 (no persistence, fresh
 * temp dir) and wait until it answers PING.
 */
/**
 * Starts a server on a port from `pickPort`, trying again (up to `attempts`
 * times) when another process took the port first.
 */
async function startWithRetry(
  pickPort: () => Promise<number>,
  extraArgs: (port: number) => string[],
  attempts: number,
  timeout: number,
  track: (server: ServerProcess) => void = () => {},
): Promise<ServerProcess> {
  let lastErr: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = await pickPort();
    if (RESERVED_PORTS.has(port)) throw new Error(`startRedis: refusing to use reserved port ${port}`);
    const dir = makeTmpDir();
    const server = new ServerProcess(port, dir, [...baseArgs(port, dir), ...extraArgs(port)], timeout);
    track(server);
    try {
      await server.start();
      return server;
    } catch (err) {
      lastErr = err;
      await server.stop().catch(() => undefined);
      if (!isAddressInUse(err)) break;
    }
  }
  throw lastErr;
}

export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisProcess> {
  const timeout = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  // Retry on a port race only when we picked the port ourselves.
  const attempts = opts.port === undefined ? 3 : 1;
  return startWithRetry(() => (opts.port !== undefined ? Promise.resolve(opts.port) : pickServerPort()), () => [...(opts.args ?? [])], attempts, timeout);
}

// ---------------------------------------------------------------------------
// Cluster.

async function clusterInfo(port: number): Promise<string> {
  const { stdout } = await execFileAsync(REDIS_CLI_BIN, ['-h', HOST, '-p', String(port), 'cluster', 'info'], {
    timeout: 2_000,
  });
  return stdout;
}

/**
 * Start three cluster-enabled masters (no replicas), join them with
 * `redis-cli --cluster create`, and wait until every node reports
 * `cluster_state:ok`.
 */
export async function startRedisCluster(opts: { startTimeoutMs?: number; attempts?: number } = {}): Promise<RedisCluster> {
  // A node or bus port taken between the probe and the start, or a cluster
  // that does not form: start over on new ports.
  const attempts = opts.attempts ?? CLUSTER_START_ATTEMPTS;
  let lastErr: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await startClusterOnce(opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    } catch (err) {
      lastErr = err;
    }
  }
  throw new Error(`startRedisCluster: no cluster after ${attempts} attempts on fresh ports; last error: ${(lastErr as Error)?.message ?? String(lastErr)}`);
}

const CLUSTER_START_ATTEMPTS = 3;

async function startClusterOnce(timeout: number): Promise<RedisCluster> {
  const servers: RedisProcess[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };

  try {
    const started = await Promise.all(
      [0, 1, 2].map(() =>
        startWithRetry(
          freeClusterPort,
          (port) => ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '5000'],
          3,
          timeout,
          (server) => servers.push(server),
        ),
      ),
    );

    const addrs = started.map((s) => `${HOST}:${s.port}`);
    try {
      await execFileAsync(
        REDIS_CLI_BIN,
        ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'],
        { timeout },
      );
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(
        `redis-cli --cluster create failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`,
      );
    }

    const deadline = Date.now() + timeout;
    const pending = new Set(started.map((s) => s.port));
    let last = '';
    while (pending.size > 0) {
      for (const port of [...pending]) {
        try {
          const info = await clusterInfo(port);
          if (/^cluster_state:ok\r?$/m.test(info)) pending.delete(port);
          else last = `${port}: ${info.split('\n')[0]?.trim() ?? ''}`;
        } catch (err) {
          last = `${port}: ${(err as Error).message}`;
        }
      }
      if (pending.size === 0) break;
      if (Date.now() > deadline) {
        throw new Error(`cluster did not reach cluster_state:ok within ${timeout} ms (last: ${last})`);
      }
      await sleep(50);
    }

    let stopped: Promise<void> | undefined;
    return {
      nodes: started.map((s) => ({ host: s.host, port: s.port })),
      servers: started,
      stop: () => (stopped ??= stopAll()),
    };
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
}

/**
 * A Cluster client on `cluster` with the guard path's fail-fast settings (no
 * offline queue, 1 s per command), resolved once it is ready.
 */
export async function connectGuardCluster(cluster: RedisCluster): Promise<Cluster> {
  const client = new Cluster(cluster.nodes, { enableOfflineQueue: false, redisOptions: { commandTimeout: 1000 } });
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
  });
  return client;
}
