/**
 * `classifyError` sorts the errors that reach a request's edge: real ones,
 * made by the libraries that throw them (ioredis against a server that does
 * not answer or is not there, zlib, @koa/bodyparser reading real requests),
 * so a library that renames its errors breaks this test, not production.
 */
import { expect } from 'chai';
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { Redis, ReplyError } from 'ioredis';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import * as zlib from 'node:zlib';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { classifyError, toTwoFactorError } from '../../src/core/error-classes.ts';
import { TwoFactorError } from '../../src/core/errors.ts';
import type { GuardRedisOptions } from '../../src/stores/redis-client.ts';
import { freePort } from '../support/redis-server.ts';

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('did not reject');
}

/**
 * A TCP server that accepts connections and never answers (a paused Redis),
 * or, `slam`, closes each connection on its first bytes.
 */
async function fakeServer(slam = false): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    if (slam) s.once('data', () => s.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

describe('core/error-classes', () => {
  describe('store failures → store', () => {
    let silent: Awaited<ReturnType<typeof fakeServer>>;
    let slammer: Awaited<ReturnType<typeof fakeServer>>;
    const clients: Redis[] = [];
    const client = (o: GuardRedisOptions) => {
      const c = new Redis({ host: '127.0.0.1', retryStrategy: () => null, ...o });
      c.on('error', () => {});
      clients.push(c);
      return c;
    };
    before(async () => {
      silent = await fakeServer();
      slammer = await fakeServer(true);
    });
    after(async () => {
      for (const c of clients) c.disconnect();
      await silent.close();
      await slammer.close();
    });

    it('a command the server does not answer in time (ioredis commandTimeout)', async () => {
      const c = client({ port: silent.port, commandTimeout: 50 });
      const err = await rejectionOf(c.get('k'));
      expect(classifyError(err)).to.deep.equal({ kind: 'store', reason: 'command timeout' });
    });

    it('a connection closed with commands waiting', async () => {
      const c = client({ port: slammer.port });
      const err = await rejectionOf(c.get('k'));
      expect(classifyError(err)).to.deep.equal({ kind: 'store', reason: 'connection closed' });
    });

    it('no server, offline queue off (createRedisClient): "Stream isn\'t writeable"', async () => {
      const c = client({ port: await freePort(), enableOfflineQueue: false, lazyConnect: true });
      const err = await rejectionOf(c.get('k'));
      expect(classifyError(err)).to.deep.equal({ kind: 'store', reason: 'not connected' });
    });

    it('no server, offline queue on: MaxRetriesPerRequestError or the refused connection', async () => {
      const c = client({ port: await freePort(), maxRetriesPerRequest: 0, retryStrategy: (n: number) => (n > 2 ? null : 10) });
      const err = await rejectionOf(c.get('k'));
      expect(classifyError(err).kind, String(err)).to.equal('store');
    });

    it('replies that mean "cannot serve now": OOM, LOADING, BUSY, READONLY, CLUSTERDOWN, MASTERDOWN, TRYAGAIN, MISCONF', () => {
      for (const reply of [
        "OOM command not allowed when used memory > 'maxmemory'.",
        'LOADING Redis is loading the dataset in memory',
        'BUSY Redis is busy running a script.',
        "READONLY You can't write against a read only replica.",
        'CLUSTERDOWN The cluster is down',
        'MASTERDOWN Link with MASTER is down',
        'TRYAGAIN Multiple keys request during rehashing of slot',
        'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
      ]) {
        const err = new ReplyError(reply);
        expect(classifyError(err), reply).to.deep.equal({ kind: 'store', reason: reply.split(' ')[0] });
        expect(toTwoFactorError(err)?.code).to.equal('store_unavailable');
      }
    });

    it('a transaction aborted because a queued command hit OOM', () => {
      const err = Object.assign(new ReplyError('EXECABORT Transaction discarded because of previous errors.'), {
        previousErrors: [new ReplyError("OOM command not allowed when used memory > 'maxmemory'.")],
      });
      expect(classifyError(err)).to.deep.equal({ kind: 'store', reason: 'OOM' });
    });

    it('socket errors on the way to the store, and a store error wrapped by the app (cause)', () => {
      const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', syscall: 'connect' });
      expect(classifyError(refused)).to.deep.equal({ kind: 'store', reason: 'ECONNREFUSED' });
      const timedOut = Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' });
      expect(classifyError(new Error('session store failed', { cause: timedOut }))).to.deep.equal({ kind: 'store', reason: 'ETIMEDOUT' });
    });
  });

  describe('bodies that cannot be read → bad_request', () => {
    it('zlib and brotli errors on data that is not what Content-Encoding says', () => {
      const plain = Buffer.from('{"code":"123456"}');
      const gz = gzipSync(plain);
      const br = brotliCompressSync(plain);
      for (const [label, fn] of [
        ['plain body as gzip', () => gunzipSync(plain)],
        ['plain body as deflate', () => inflateSync(plain)],
        ['plain body as br', () => brotliDecompressSync(plain)],
        ['gzip header, garbage after', () => gunzipSync(Buffer.concat([gz.subarray(0, 10), Buffer.from('garbage garbage garbage')]))],
        ['truncated gzip', () => gunzipSync(gz.subarray(0, gz.length - 6))],
        ['truncated br', () => brotliDecompressSync(br.subarray(0, br.length - 3))],
      ] as const) {
        const err = thrownBy(fn);
        expect(classifyError(err), `${label}: ${String(err)}`).to.deep.equal({ kind: 'bad_request', reason: 'compressed body' });
        expect(toTwoFactorError(err)?.code).to.equal('invalid_input');
      }
    });

    it('zstd errors on a body that is not zstd (Node 22.15 and later decode Content-Encoding: zstd)', () => {
      const zstd = (zlib as { zstdDecompressSync?: (b: Buffer) => Buffer }).zstdDecompressSync;
      // Where Node cannot decode zstd, the error Node 22.23's body-parser passed on for such a body.
      const err = zstd
        ? thrownBy(() => zstd(Buffer.from('{"code":"123456"}')))
        : Object.assign(new Error('Unknown frame descriptor'), { code: 'ZSTD_error_prefix_unknown', errno: 10, status: 400, expose: true });
      expect(classifyError(err), String(err)).to.deep.equal({ kind: 'bad_request', reason: 'compressed body' });
      expect(toTwoFactorError(err)?.code).to.equal('invalid_input');
    });

    describe('what @koa/bodyparser throws on real requests', () => {
      let server: HttpServer;
      let url: string;
      let caught: unknown;
      before(async () => {
        const app = new Koa();
        app.use(async (ctx, next) => {
          caught = undefined;
          try { await next(); } catch (err) { caught = err; }
          ctx.status = 204;
        });
        app.use(bodyParser({ enableTypes: ['json', 'form'], jsonLimit: '1kb', formLimit: '1kb' }));
        server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      });
      after(() => new Promise<void>((resolve) => server.close(() => resolve())));

      async function errorFor(headers: Record<string, string>, body: string | Buffer): Promise<unknown> {
        await fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
        return caught;
      }

      const cases: Array<[string, Record<string, string>, string | Buffer, string]> = [
        ['plain JSON labelled gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, '{"a":1}', 'compressed body'],
        ['plain form labelled br', { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'br' }, 'a=1', 'compressed body'],
        ['an unknown Content-Encoding', { 'content-type': 'application/json', 'content-encoding': 'x-unknown' }, '{"a":1}', 'content encoding'],
        ['malformed JSON', { 'content-type': 'application/json' }, '{"a":', 'malformed body'],
        ['a JSON string, not an object', { 'content-type': 'application/json' }, '"a"', 'malformed body'],
        ['a prototype-poisoning JSON body', { 'content-type': 'application/json' }, '{"__proto__":{"x":1}}', 'malformed body'],
        ['a body over the limit', { 'content-type': 'application/json' }, `{"a":"${'x'.repeat(2048)}"}`, 'body too large'],
        ['a gzip body that inflates over the limit', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(`{"a":"${'x'.repeat(100_000)}"}`), 'body too large'],
      ];
      for (const [label, headers, body, reason] of cases) {
        it(label, async () => {
          const err = await errorFor(headers, body);
          expect(classifyError(err), String(err)).to.deep.equal({ kind: 'bad_request', reason });
        });
      }
    });
  });

  describe('everything else → other (the app\'s bug, for Koa)', () => {
    it('programming errors, the app\'s own HTTP errors, Redis replies that mean a wrong command', () => {
      for (const err of [
        new TypeError("Cannot read properties of undefined (reading 'id')"),
        Object.assign(new Error('Not Found'), { status: 404, expose: true }),
        Object.assign(new Error('stream is not readable'), { status: 500, type: 'stream.not.readable' }),
        new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'),
        new ReplyError('NOSCRIPT No matching script. Please use EVAL.'),
        'a string',
        null,
        undefined,
      ]) {
        expect(classifyError(err), String(err)).to.deep.equal({ kind: 'other' });
        expect(toTwoFactorError(err)).to.equal(null);
      }
    });

    it('a TwoFactorError is itself', () => {
      const err = new TwoFactorError('too_many_attempts', { retryAfter: 30 });
      expect(classifyError(err)).to.deep.equal({ kind: 'two_factor', error: err });
      expect(toTwoFactorError(err)).to.equal(err);
    });
  });
});
