/**
 * `app.proxy = true` without `app.maxIpsCount` makes `ctx.ip` the leftmost
 * X-Forwarded-For entry, which any client sets: each spoofed value would get
 * a fresh per-IP budget. The gate says so, once (issue 10, item 10).
 */
import { expect } from 'chai';
import { startCarelessApp, type CarelessApp } from '../support/careless-app.ts';

describe('security: a proxy setting that defeats the per-IP limit is warned about', () => {
  let app: CarelessApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('warns once when app.proxy is on without maxIpsCount', async () => {
    app = await startCarelessApp({ sessions: 'cookie', proxy: true });
    const c = app.client();
    for (let i = 0; i < 3; i++) await c.get('/', { headers: { 'x-forwarded-for': `203.0.113.${i}` } });
    const warnings = app.logs.filter((l) => l.includes('maxIpsCount'));
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('X-Forwarded-For');
  });

  it('says nothing when the app runs without a proxy', async () => {
    app = await startCarelessApp({ sessions: 'cookie' });
    await app.client().get('/');
    expect(app.logs.filter((l) => l.includes('maxIpsCount'))).to.deep.equal([]);
  });
});
