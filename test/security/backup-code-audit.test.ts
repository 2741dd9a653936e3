/**
 * The audit trail of the second factor must say what happened, so an
 * operator can tell a used backup code (and how many are left) from an
 * authenticator code, and a stale or forged enrolment id is answered with
 * which field is wrong. Driven through the service with the in-memory stores.
 */
import { expect } from 'chai';
import { generateCode, twoFactor, type AuditEvent } from '../../src/index.ts';

describe('security: backup-code use is audited with its details', () => {
  it('a backup code: backup_code.used with the count left, verification.succeeded with method backup', async () => {
    const events: AuditEvent[] = [];
    const tf = twoFactor({ audit: (e) => { events.push(e); } });
    const info = { endpoint: 'verify' };
    const started = await tf.service.startEnrolment('alice', 'alice', 'Phone', info);
    const confirmed = await tf.service.confirmEnrolment('alice', started.enrolmentId, generateCode(started.secret, Date.now() - 30_000), info);
    const codes = confirmed.backupCodes!;
    events.length = 0;
    const checked = await tf.service.checkSecondFactor('alice', codes[0]!.toUpperCase(), info);
    expect(checked).to.deep.include({ method: 'backup', backupCodesRemaining: codes.length - 1 });
    const used = events.find((e) => e.type === 'backup_code.used');
    expect(used?.detail).to.deep.equal({ endpoint: 'verify', remaining: codes.length - 1 });
    const ok = events.find((e) => e.type === 'verification.succeeded');
    expect(ok?.detail).to.deep.equal({ endpoint: 'verify', method: 'backup' });
    // Single use: the same code again is a wrong code.
    const again = await tf.service.checkSecondFactor('alice', codes[0]!, info).catch((err: unknown) => err);
    expect((again as { code: string }).code).to.equal('invalid_code');
  });
});

describe('security: a stale or forged enrolment id is named in the answer', () => {
  const tf = twoFactor();
  const info = { endpoint: 'setup' };

  it('confirming an enrolment that does not exist: invalid_input on field enrolmentId, "start again"', async () => {
    const err = await tf.service.confirmEnrolment('bob', 'no-such-enrolment', '123456', info).catch((e: unknown) => e) as { code: string; details: unknown; message: string };
    expect(err.code).to.equal('invalid_input');
    expect(err.details).to.deep.equal({ field: 'enrolmentId' });
    expect(err.message).to.equal('This setup has expired or does not exist. Start again.');
  });

  it('resuming with an id that is not a plausible one: invalid_input on field enrolmentId', async () => {
    let err = {} as { code: string; details: unknown; message: string };
    try {
      await tf.service.resumeEnrolment('bob', 'x'.repeat(65), 'bob');
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).to.equal('invalid_input');
    expect(err.details).to.deep.equal({ field: 'enrolmentId' });
    expect(err.message).to.include('"enrolmentId"');
    expect(await tf.service.resumeEnrolment('bob', 'unknown', 'bob')).to.equal(null);
  });
});
