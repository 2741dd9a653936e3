/**
 * Ids that are not ids: a `getUserId` (or a session) that yields a boolean,
 * `Infinity`, the strings `String()` makes of nothing, or a session
 * namespace that is `null` must never become a key that a real user (or
 * every broken user at once) shares. And ids that are ids — numbers,
 * bigints, objects with a meaningful `toString` like Mongo's ObjectId —
 * must keep working.
 */
import { expect } from 'chai';
import { isRecent, namespaceFor, usableUserId, type SessionFacts } from '../../src/core/session-policy.ts';

describe('security: forged or broken user ids are refused, real ones kept', () => {
  it('refuses what String() makes of a missing id: "", "undefined", "null", "NaN", "[object Object]"', () => {
    for (const value of ['', 'undefined', 'null', 'NaN', '[object Object]', ' null ', '\tundefined']) {
      expect(usableUserId(value), JSON.stringify(value)).to.equal(null);
    }
  });

  it('refuses booleans, symbols, functions, undefined, null and non-finite numbers', () => {
    for (const value of [true, false, Symbol('x'), () => 'alice', undefined, null, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(usableUserId(value), String(typeof value === 'symbol' ? 'symbol' : value)).to.equal(null);
    }
  });

  it('keeps strings, finite numbers, bigints and objects with their own toString (an ObjectId)', () => {
    expect(usableUserId('alice')).to.equal('alice');
    expect(usableUserId(42)).to.equal('42');
    expect(usableUserId(0)).to.equal('0');
    expect(usableUserId(10n)).to.equal('10');
    expect(usableUserId({ toString: () => '65a1f0c2e4b0a1b2c3d4e5f6' })).to.equal('65a1f0c2e4b0a1b2c3d4e5f6');
  });

  it('refuses an over-long id and an object without a meaningful toString', () => {
    expect(usableUserId('a'.repeat(257))).to.equal(null);
    expect(usableUserId('a'.repeat(256))).to.equal('a'.repeat(256));
    expect(usableUserId({ id: 1 })).to.equal(null);
  });

  it('a session namespace that is null, a string or another user\'s is nobody\'s', () => {
    for (const raw of [null, undefined, '', 'alice', 0, false]) {
      expect(namespaceFor(raw, 'alice'), String(raw)).to.equal(undefined);
    }
    expect(namespaceFor({ uid: 'bob' }, 'alice')).to.equal(undefined);
    expect(namespaceFor({ uid: 'alice', login: 'L' }, 'alice')).to.deep.equal({ uid: 'alice', login: 'L' });
  });
});

describe('security: a step-up maxAge is an upper bound, inclusive', () => {
  const facts: SessionFacts = { state: 'active', generation: 3, loginAlive: true };
  const s = { uid: 'alice', login: 'L', verifiedAt: 1_000_000, method: 'totp' as const, generation: 3 };

  it('exactly maxAge after the second factor still counts; one ms later it does not', () => {
    expect(isRecent(s, facts, 60_000, 1_060_000)).to.equal(true);
    expect(isRecent(s, facts, 60_000, 1_060_001)).to.equal(false);
    expect(isRecent(s, facts, undefined, 9_999_999_999)).to.equal(true);
  });

  it('a session of an older generation or an ended login is never recent', () => {
    expect(isRecent(s, { ...facts, generation: 4 }, 60_000, 1_000_001)).to.equal(false);
    expect(isRecent(s, { ...facts, loginAlive: false }, 60_000, 1_000_001)).to.equal(false);
  });
});
