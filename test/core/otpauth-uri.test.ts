import { expect } from 'chai';
import { parse } from '@otplib/uri';
import { buildOtpauthUri } from '../../src/core/otpauth-uri.ts';
import { generateSecret, resolveTotpOptions } from '../../src/core/totp.ts';

const defaults = resolveTotpOptions();

/** The label part between `otpauth://totp/` and `?`. */
function labelOf(uri: string): string {
  const m = /^otpauth:\/\/totp\/([^?]*)\?/.exec(uri);
  if (!m) throw new Error(`not an otpauth totp URI: ${uri}`);
  return m[1]!;
}

function queryOf(uri: string): URLSearchParams {
  return new URLSearchParams(uri.slice(uri.indexOf('?') + 1));
}

describe('core/otpauth-uri', () => {
  it('has the form otpauth://totp/Issuer:account?secret=…&issuer=… with defaults left out', () => {
    const uri = buildOtpauthUri({ issuer: 'Example', accountName: 'alice', secret: 'JBSWY3DPEHPK3PXP', totp: defaults });
    expect(uri).to.equal('otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example');
  });

  it('percent-encodes spaces, &, : and @ in issuer and account', () => {
    const uri = buildOtpauthUri({ issuer: 'Acme: R&D Co', accountName: 'alice@example.com', secret: 'JBSWY3DPEHPK3PXP', totp: defaults });
    expect(uri).to.equal(
      'otpauth://totp/Acme%3A%20R%26D%20Co:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Acme%3A%20R%26D%20Co',
    );
    expect(uri).to.not.include(' ');
    expect(uri).to.not.include('@');
    // One '&' separating the two parameters, none from the issuer.
    expect(uri.split('&')).to.have.length(2);
  });

  it('leaves exactly one literal ":" in the label even when issuer and account contain ":"', () => {
    const uri = buildOtpauthUri({ issuer: 'a:b', accountName: 'c:d', secret: 'JBSWY3DPEHPK3PXP', totp: defaults });
    const label = labelOf(uri);
    expect(label.split(':')).to.have.length(2);
    expect(label).to.equal('a%3Ab:c%3Ad');
    const [issuer, account] = label.split(':').map(decodeURIComponent);
    expect(issuer).to.equal('a:b');
    expect(account).to.equal('c:d');
  });

  it('writes the secret without "=" padding', () => {
    const uri = buildOtpauthUri({ issuer: 'X', accountName: 'y', secret: 'GEZDGNBVGY======', totp: defaults });
    expect(uri).to.not.include('=====');
    expect(queryOf(uri).get('secret')).to.equal('GEZDGNBVGY');
    const fresh = buildOtpauthUri({ issuer: 'X', accountName: 'y', secret: generateSecret(), totp: defaults });
    expect(queryOf(fresh).get('secret')).to.match(/^[A-Z2-7]+$/);
  });

  it('adds algorithm, digits and period only when they differ from the defaults', () => {
    const plain = queryOf(buildOtpauthUri({ issuer: 'X', accountName: 'y', secret: 'JBSWY3DPEHPK3PXP', totp: defaults }));
    expect([...plain.keys()]).to.deep.equal(['secret', 'issuer']);

    const custom = queryOf(buildOtpauthUri({
      issuer: 'X', accountName: 'y', secret: 'JBSWY3DPEHPK3PXP',
      totp: resolveTotpOptions({ algorithm: 'sha512', digits: 8, period: 60 }),
    }));
    expect(custom.get('algorithm')).to.equal('SHA512');
    expect(custom.get('digits')).to.equal('8');
    expect(custom.get('period')).to.equal('60');

    const onlySha256 = queryOf(buildOtpauthUri({
      issuer: 'X', accountName: 'y', secret: 'JBSWY3DPEHPK3PXP', totp: resolveTotpOptions({ algorithm: 'sha256' }),
    }));
    expect([...onlySha256.keys()]).to.deep.equal(['secret', 'issuer', 'algorithm']);
  });

  it('parses with @otplib/uri back to the same secret, issuer and label', () => {
    const secret = generateSecret();
    const issuer = 'Acme: R&D Co';
    const accountName = 'alice smith@example.com';
    const parsed = parse(buildOtpauthUri({ issuer, accountName, secret, totp: defaults }));
    expect(parsed.type).to.equal('totp');
    expect(parsed.params.secret).to.equal(secret);
    expect(parsed.params.issuer).to.equal(issuer);
    expect(parsed.label).to.equal(`${issuer}:${accountName}`);
    expect(parsed.params.algorithm).to.equal(undefined);
    expect(parsed.params.digits).to.equal(undefined);
    expect(parsed.params.period).to.equal(undefined);
  });

  it('parses with @otplib/uri back to the non-default parameters', () => {
    const secret = generateSecret();
    const parsed = parse(buildOtpauthUri({
      issuer: 'Example', accountName: 'bob', secret, totp: resolveTotpOptions({ algorithm: 'sha256', digits: 8, period: 60 }),
    }));
    expect(parsed.params).to.deep.include({ secret, issuer: 'Example', algorithm: 'sha256', digits: 8, period: 60 });
  });
});
