/**
 * The session policy on plain data: what every adapter and route asks, so
 * its rules are proven once here, without HTTP.
 */
import { expect } from 'chai';
import { enrolDecision, gateDecision, isRecent, isVerified, type SecondFactorSession, type SessionFacts } from '../../src/core/session-policy.ts';

const NOW = 1_800_000_000_000;
const RECENT_MS = 5 * 60_000;
const active = (generation = 3, loginAlive = true): SessionFacts => ({ state: 'active', generation, loginAlive });
const verified = (verifiedAt = NOW - 1000, generation = 3): SecondFactorSession => ({ uid: 'u1', login: 'L', verifiedAt, method: 'totp', generation });

describe('core: session policy', () => {
  it('a session is verified only for a live login and the generation it passed in', () => {
    expect(isVerified(verified(), active())).to.equal(true);
    expect(isVerified(verified(), active(4)), 'generation moved (disable, reset, regeneration elsewhere)').to.equal(false);
    expect(isVerified(verified(), active(3, false)), 'login ended server-side (logout)').to.equal(false);
    expect(isVerified({ uid: 'u1', tag: 't' }, active()), 'never passed').to.equal(false);
    expect(isVerified({ uid: 'u1', verifiedAt: NOW, generation: 3 }, active()), 'no login id').to.equal(false);
    expect(isVerified(undefined, active())).to.equal(false);
  });

  it('recent means verified and within maxAge; no maxAge means any verified session', () => {
    expect(isRecent(verified(NOW - 60_000), active(), 60_000, NOW)).to.equal(true);
    expect(isRecent(verified(NOW - 60_001), active(), 60_000, NOW)).to.equal(false);
    expect(isRecent(verified(NOW - 10 * 86_400_000), active(), undefined, NOW)).to.equal(true);
    expect(isRecent(verified(NOW), active(4), undefined, NOW)).to.equal(false);
    const remembered: SecondFactorSession = { ...verified(NOW), method: 'remembered' };
    expect(isRecent(remembered, active(), 60_000, NOW), 'a remembered browser never satisfies a maxAge').to.equal(false);
    expect(isRecent(remembered, active(), undefined, NOW), 'but it is verified').to.equal(true);
  });

  it('the gate passes users without 2FA, sends pending ones to setup and unverified active ones to verify', () => {
    expect(gateDecision(undefined, { state: 'none', generation: 0, loginAlive: false })).to.equal('pass');
    expect(gateDecision(verified(), { state: 'pending', generation: 3, loginAlive: true }), 'required setup wins over a verified session').to.equal('setup');
    expect(gateDecision({ uid: 'u1', tag: 't' }, active())).to.equal('verify');
    expect(gateDecision(verified(), active())).to.equal('pass');
    expect(gateDecision(verified(), active(4))).to.equal('verify');
  });

  it('linking another authenticator needs a verified session, and a recent one or a fresh code to start', () => {
    const none: SessionFacts = { state: 'none', generation: 0, loginAlive: false };
    expect(enrolDecision(undefined, none, true, false, RECENT_MS, NOW), 'first device').to.equal('allow');
    expect(enrolDecision({ uid: 'u1', tag: 't' }, active(), true, true, RECENT_MS, NOW), 'password only, even with a code').to.equal('verify');
    expect(enrolDecision(verified(NOW - RECENT_MS), active(), true, false, RECENT_MS, NOW)).to.equal('allow');
    expect(enrolDecision(verified(NOW - RECENT_MS - 1), active(), true, false, RECENT_MS, NOW)).to.equal('step-up');
    expect(enrolDecision(verified(NOW - RECENT_MS - 1), active(), true, true, RECENT_MS, NOW)).to.equal('check-code');
    expect(enrolDecision(verified(NOW - RECENT_MS - 1), active(), false, false, RECENT_MS, NOW), 'confirming what was started').to.equal('allow');
    expect(enrolDecision(verified(NOW), active(4), false, false, RECENT_MS, NOW), 'verified for an older generation').to.equal('verify');
    // A remembered browser is no recent second factor: nobody typed anything at this login.
    const remembered: SecondFactorSession = { ...verified(NOW), method: 'remembered' };
    expect(enrolDecision(remembered, active(), true, false, RECENT_MS, NOW), 'remembered, just now').to.equal('step-up');
    expect(enrolDecision(remembered, active(), true, true, RECENT_MS, NOW)).to.equal('check-code');
    expect(enrolDecision(remembered, active(), false, false, RECENT_MS, NOW), 'confirming what a fresh code started').to.equal('allow');
  });
});
