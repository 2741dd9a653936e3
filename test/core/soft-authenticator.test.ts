/**
 * Self-test of the software WebAuthn authenticator (test/support): its
 * responses must pass @simplewebauthn/server's own verification, and its
 * forged ones (foreign challenge, origin, signature) must fail it, before
 * other tests rely on it.
 */
import { expect } from 'chai';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type WebAuthnCredential,
} from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';

const rpID = 'localhost';
const origin = 'http://localhost:3000';

async function registered(authenticator: SoftAuthenticator): Promise<WebAuthnCredential> {
  const options = await generateRegistrationOptions({ rpName: 'Test', rpID, userName: 'alice' });
  const response = authenticator.register(options, origin);
  const result = await verifyRegistrationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
  });
  if (!result.verified) throw new Error('registration did not verify');
  return result.registrationInfo.credential;
}

async function verify(response: AuthenticationResponseJSON, challenge: string, credential: WebAuthnCredential) {
  return verifyAuthenticationResponse({
    response,
    expectedChallenge: challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    credential,
  });
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('test support: SoftAuthenticator', () => {
  it('a registration verifies, with the returned credential id', async () => {
    const authenticator = new SoftAuthenticator();
    const options = await generateRegistrationOptions({ rpName: 'Test', rpID, userName: 'alice' });
    const response = authenticator.register(options, origin);
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
    });
    expect(result.verified).to.equal(true);
    expect(result.registrationInfo?.credential.id).to.equal(response.id);
    expect(result.registrationInfo?.fmt).to.equal('none');
    expect(result.registrationInfo?.userVerified).to.equal(true);
    expect(authenticator.credentials).to.have.length(1);
    expect(authenticator.credentials[0]?.userHandle).to.equal(options.user.id);
    expect(Buffer.from(result.registrationInfo?.credential.publicKey ?? [])).to.deep.equal(
      Buffer.from(authenticator.credentials[0]?.publicKeyCose ?? []),
    );
  });

  it('assertions verify against that credential, counting 1 then 2', async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await registered(authenticator);

    const first = await generateAuthenticationOptions({ rpID, allowCredentials: [{ id: credential.id }] });
    const one = await verify(authenticator.authenticate(first, origin), first.challenge, credential);
    expect(one.verified).to.equal(true);
    expect(one.authenticationInfo.credentialID).to.equal(credential.id);
    expect(one.authenticationInfo.newCounter).to.equal(1);
    expect(one.authenticationInfo.userVerified).to.equal(true);

    const second = await generateAuthenticationOptions({ rpID });
    const two = await verify(
      authenticator.authenticate(second, origin),
      second.challenge,
      { ...credential, counter: one.authenticationInfo.newCounter },
    );
    expect(two.verified).to.equal(true);
    expect(two.authenticationInfo.newCounter).to.equal(2);
  });

  it('an assertion carrying another challenge fails verification', async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await registered(authenticator);
    const options = await generateAuthenticationOptions({ rpID });
    const foreign = isoBase64URL.fromBuffer(new Uint8Array(32).fill(7));
    const response = authenticator.authenticate(options, origin, { challenge: foreign });
    const err = await errorOf(verify(response, options.challenge, credential));
    expect(err.message).to.match(/challenge/i);
  });

  it('an assertion made for another origin fails verification', async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await registered(authenticator);
    const options = await generateAuthenticationOptions({ rpID });
    const response = authenticator.authenticate(options, 'http://evil.example:3000');
    const err = await errorOf(verify(response, options.challenge, credential));
    expect(err.message).to.match(/origin/i);
  });

  it('an assertion with a tampered signature fails verification', async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await registered(authenticator);
    const options = await generateAuthenticationOptions({ rpID });
    const response = authenticator.authenticate(options, origin);
    // Flip the last byte of the DER signature (inside s), keeping the DER structure valid.
    const signature = isoBase64URL.toBuffer(response.response.signature);
    signature[signature.length - 1]! ^= 0x01;
    const tampered = { ...response, response: { ...response.response, signature: isoBase64URL.fromBuffer(signature) } };
    expect((await verify(tampered, options.challenge, credential)).verified).to.equal(false);
    // The untampered one still verifies.
    expect((await verify(response, options.challenge, credential)).verified).to.equal(true);
  });

  it("signCount 'zero' gives newCounter 0", async () => {
    const authenticator = new SoftAuthenticator({ signCount: 'zero' });
    const credential = await registered(authenticator);
    for (let i = 0; i < 2; i++) {
      const options = await generateAuthenticationOptions({ rpID });
      const result = await verify(authenticator.authenticate(options, origin), options.challenge, credential);
      expect(result.verified).to.equal(true);
      expect(result.authenticationInfo.newCounter).to.equal(0);
    }
  });

  it('refuses to register again when excludeCredentials lists a held credential', async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await registered(authenticator);
    const options = await generateRegistrationOptions({
      rpName: 'Test',
      rpID,
      userName: 'alice',
      excludeCredentials: [{ id: credential.id }],
    });
    expect(() => authenticator.register(options, origin)).to.throw(/excludeCredentials/);
    expect(authenticator.credentials).to.have.length(1);
  });

  it('a counter override writes a regressed counter, which the server refuses', async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await registered(authenticator);
    const options = await generateAuthenticationOptions({ rpID });
    const response = authenticator.authenticate(options, origin, { counter: 3 });
    const err = await errorOf(verify(response, options.challenge, { ...credential, counter: 5 }));
    expect(err.message).to.match(/counter/i);
    // The stored counter rose to 3 (the override was higher), so the next one is 4.
    expect(authenticator.credentials[0]?.counter).to.equal(3);
    const next = await generateAuthenticationOptions({ rpID });
    const result = await verify(authenticator.authenticate(next, origin), next.challenge, credential);
    expect(result.authenticationInfo.newCounter).to.equal(4);
  });

  it('throws when it holds no credential the options allow', async () => {
    const authenticator = new SoftAuthenticator();
    await registered(authenticator);
    const other = await generateAuthenticationOptions({ rpID, allowCredentials: [{ id: 'AAAA' }] });
    expect(() => authenticator.authenticate(other, origin)).to.throw(/no held credential/);
    const elsewhere = await generateAuthenticationOptions({ rpID: 'example.com' });
    expect(() => authenticator.authenticate(elsewhere, 'https://example.com')).to.throw(/no held credential/);
  });

  it('without user verification the UV flag is clear', async () => {
    const authenticator = new SoftAuthenticator({ userVerification: false });
    const options = await generateRegistrationOptions({ rpName: 'Test', rpID, userName: 'bob' });
    const response = authenticator.register(options, origin);
    const err = await errorOf(
      verifyRegistrationResponse({ response, expectedChallenge: options.challenge, expectedOrigin: origin, expectedRPID: rpID }),
    );
    expect(err.message).to.match(/user.*verif/i);
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      requireUserVerification: false,
    });
    expect(result.verified).to.equal(true);
    expect(result.registrationInfo?.userVerified).to.equal(false);
  });
});
