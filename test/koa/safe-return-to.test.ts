/**
 * `safeReturnTo`: the one judge of where a browser may be sent back to after
 * the second factor. Only a path on this host passes; anything a browser
 * could read as another host (`//host`, `/\host`, a scheme, a tab or newline
 * it strips) is refused.
 */
import { expect } from 'chai';
import { safeReturnTo } from '../../src/core/http/return-to.ts';

/** What a browser does with a Location header: resolve it against this page. */
function hostAfterRedirect(location: string): string {
  return new URL(location, 'https://app.example/2fa/verify').host;
}

describe('koa/negotiate: safeReturnTo', () => {
  const HOSTILE = [
    '//evil.example',
    '//evil.example/path',
    '/\\evil.example',
    '/\\evil.example/path',
    '\\\\evil.example',
    '\\/evil.example',
    '/\\/evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    '/\r/evil.example',
    '/\r\n/evil.example',
    '/\t\\evil.example',
    'https://evil.example',
    'https://evil.example/dashboard',
    'http:evil.example',
    'javascript:alert(1)',
    'evil.example',
    ' //evil.example',
    '\t//evil.example',
    '',
  ];

  it('refuses every value a browser would take to another host (or that is not a local path)', () => {
    for (const value of HOSTILE) expect(safeReturnTo(value), JSON.stringify(value)).to.equal(undefined);
  });

  it('refuses them once decoded from a query string or a form body (the encoded variants)', () => {
    for (const encoded of ['%2F%2Fevil.example', '%2F%5Cevil.example', '%5C%5Cevil.example', '%2F%09%2Fevil.example', '%2F%0A%2Fevil.example', 'https%3A%2F%2Fevil.example']) {
      const decoded = new URLSearchParams(`returnTo=${encoded}`).get('returnTo');
      expect(safeReturnTo(decoded), encoded).to.equal(undefined);
    }
  });

  it('the hostile values do leave the host when a browser follows them (so refusing them matters)', () => {
    for (const value of ['//evil.example', '/\\evil.example', '\\\\evil.example', '/\t/evil.example', '/\n/evil.example', 'https://evil.example']) {
      expect(hostAfterRedirect(value), JSON.stringify(value)).to.equal('evil.example');
    }
  });

  it('keeps local paths as they are, query and fragment included, and they stay on this host', () => {
    for (const value of ['/', '/dashboard', '/remote/take-control?id=7&x=%2F%2Fevil', '/a/b#c', '/a//b', '/%2F%2Fevil.example', '/%5Cevil.example']) {
      expect(safeReturnTo(value), value).to.equal(value);
      expect(hostAfterRedirect(value), value).to.equal('app.example');
    }
  });

  it('refuses anything but a string, and overlong values', () => {
    for (const value of [undefined, null, 42, ['/dashboard'], { path: '/dashboard' }]) {
      expect(safeReturnTo(value), JSON.stringify(value)).to.equal(undefined);
    }
    expect(safeReturnTo(`/${'a'.repeat(2047)}`)).to.equal(`/${'a'.repeat(2047)}`);
    expect(safeReturnTo(`/${'a'.repeat(2048)}`)).to.equal(undefined);
  });
});
