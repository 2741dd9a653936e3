import { expect } from 'chai';
import { Cluster, Redis } from 'ioredis';
import { existsSync } from 'node:fs';
import {
  clusterPortCandidates,
  ephemeralPortRange,
  freeClusterPort,
  freePort,
  startRedis,
  startRedisCluster,
  type RedisCluster,
  type RedisProcess,
} from './redis-server.ts';

describe('test/support/redis-server harness', function () {
  this.timeout(15_000);

  describe('freePort / freeClusterPort', () => {
    it('returns usable ports, never 6379', async () => {
      const p = await freePort();
      expect(p).to.be.a('number').above(0).and.not.equal(6379);
      const c = await freeClusterPort();
      expect(c).to.be.below(55_535).and.not.equal(6379);
    });

    it('keeps cluster node ports and their bus ports (+10000) out of the ephemeral range', async () => {
      expect(clusterPortCandidates([32_768, 60_999])).to.deep.equal([[10_000, 22_767]]);
      expect(clusterPortCandidates([49_152, 65_535])).to.deep.equal([[10_000, 39_151]]);
      const [lo, hi] = ephemeralPortRange();
      for (let i = 0; i < 5; i++) {
        const c = await freeClusterPort();
        for (const p of [c, c + 10_000]) expect(p < lo || p > hi, `${p} in ${lo}..${hi}`).to.equal(true);
      }
    });
  });

  describe('startRedis', () => {
    let server: RedisProcess | undefined;
    let client: Redis | undefined;

    before(async () => {
      server = await startRedis();
      client = new Redis(server.url, {
        // Fail fast while the server is down instead of queueing for long.
        maxRetriesPerRequest: 0,
        retryStrategy: () => 50,
      });
      client.on('error', () => {
        // expected while the server is killed
      });
    });

    after(async () => {
      client?.disconnect();
      await server?.stop();
    });

    it('answers SET/GET', async () => {
      const { port, url } = server!;
      expect(port).to.not.equal(6379);
      expect(url).to.equal(`redis://127.0.0.1:${port}`);
      expect(await client!.set('k', 'v')).to.equal('OK');
      expect(await client!.get('k')).to.equal('v');
    });

    it('kill() makes commands fail; restart() brings it back on the same port', async () => {
      const port = server!.port;
      await server!.kill();
      expect(server!.running).to.equal(false);

      let failed: unknown;
      try {
        await client!.get('k');
      } catch (err) {
        failed = err;
      }
      expect(failed, 'command should fail while the server is down').to.be.instanceOf(Error);

      await server!.restart();
      expect(server!.port).to.equal(port);
      expect(server!.running).to.equal(true);
      // Fresh process without persistence: data is gone, but commands work.
      expect(await client!.get('k')).to.equal(null);
      expect(await client!.set('k', 'v2')).to.equal('OK');
      expect(await client!.get('k')).to.equal('v2');
    });

    it('rejects with the server output when the port is taken', async () => {
      let failed: unknown;
      try {
        await startRedis({ port: server!.port });
      } catch (err) {
        failed = err;
      }
      expect(failed).to.be.instanceOf(Error);
      expect((failed as Error).message).to.match(/exited during startup[\s\S]*Address already in use/);
    });

    it('stop() is idempotent and removes the temp dir', async () => {
      const s = await startRedis();
      expect(existsSync(s.dir)).to.equal(true);
      await s.stop();
      await s.stop();
      expect(s.running).to.equal(false);
      expect(existsSync(s.dir)).to.equal(false);
    });
  });

  describe('startRedisCluster', () => {
    let cluster: RedisCluster | undefined;
    let client: Cluster | undefined;
    const direct: Redis[] = [];

    before(async () => {
      cluster = await startRedisCluster();
      client = new Cluster(cluster.nodes);
    });

    after(async () => {
      client?.disconnect();
      for (const r of direct) r.disconnect();
      await cluster?.stop();
    });

    it('has three nodes with free bus ports', () => {
      expect(cluster!.nodes).to.have.length(3);
      for (const n of cluster!.nodes) {
        expect(n.host).to.equal('127.0.0.1');
        expect(n.port).to.be.below(55_535).and.not.equal(6379);
      }
    });

    it('answers SET/GET across hash tags, spread over all masters', async () => {
      for (const tag of ['a', 'b', 'c']) {
        expect(await client!.set(`{${tag}}x`, tag)).to.equal('OK');
      }
      for (const tag of ['a', 'b', 'c']) {
        expect(await client!.get(`{${tag}}x`)).to.equal(tag);
      }
      // {a}, {b}, {c} hash to slots 15495, 3300, 7365: one per master.
      const sizes: number[] = [];
      for (const n of cluster!.nodes) {
        const r = new Redis({ host: n.host, port: n.port, lazyConnect: true });
        direct.push(r);
        sizes.push(await r.dbsize());
      }
      expect(sizes).to.deep.equal([1, 1, 1]);
    });
  });
});
