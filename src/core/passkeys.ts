/**
 * Passkeys and security keys (WebAuthn) as a second factor, on
 * @simplewebauthn/server. Each challenge is random, kept in the guard store
 * for one session and one purpose, and taken there in one atomic step by the
 * first answer that uses it: a challenge works once, whatever runs in parallel.
 * The signature counter is advanced atomically in the record store.
 */
import { randomBytes } from 'node:crypto';
import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type AuthenticatorTransport, type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON, type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { TwoFactorError } from './errors.ts';
import { readStringField } from './code-input.ts';
import { failed, type FactorChecked } from './factor-check.ts';
import { withIpLimit } from './ip-limit.ts';
import type { ServiceContext } from './service-context.ts';
import { MAX_NAME_LENGTH, type RequestInfo } from './service-options.ts';
import type { DeviceRecord, PasskeyChallenge, UserRecord } from './store-types.ts';

/** How long a challenge can be answered: WebAuthn's recommended ceremony timeout, and the issue's bound. */
export const PASSKEY_CHALLENGE_TTL_MS = 5 * 60_000;
/** Name of a passkey when the user gives none. */
export const DEFAULT_PASSKEY_NAME = 'Passkey';
/** What a registration or assertion JSON may weigh at most, as a string (attestation certificates included). */
const MAX_RESPONSE_FIELD_LENGTH = 16_384;

/** The relying party for one request: the domain passkeys are bound to and the origins they may be used from. */
export interface RelyingParty {
  /** A registrable domain (`example.com`), never an IP address. */
  id: string;
  name: string;
  origins: string[];
  userVerification: 'required' | 'preferred' | 'discouraged';
}

/**
 * A passkey answer where a code could stand (verify, step-up, and the fresh
 * proof that removing a device or disabling 2FA asks for). Built by the HTTP
 * layer only, never from a request body as such.
 */
export class PasskeyProof {
  constructor(
    /** The browser's `AuthenticationResponseJSON`, unchecked. */
    readonly response: unknown,
    /** The session's challenge binding (`SecondFactorSession.binding`); undefined when it has none. */
    readonly binding: string | undefined,
    readonly rp: RelyingParty,
  ) {}
}

export interface PasskeyRegistered {
  state: 'active';
  deviceId: string;
  deviceName: string;
  /** Only when this was the user's first device: shown once. */
  backupCodes?: string[];
  generation: number;
}

function passkeysOf(record: UserRecord): Array<DeviceRecord & { passkey: NonNullable<DeviceRecord['passkey']> }> {
  return record.devices.filter((d): d is DeviceRecord & { passkey: NonNullable<DeviceRecord['passkey']> } => d.passkey !== undefined);
}

function descriptors(record: UserRecord) {
  return passkeysOf(record).map((d) => ({ id: d.passkey.credentialId, ...(d.passkey.transports ? { transports: d.passkey.transports } : {}) }));
}

/** The shape every WebAuthn answer shares; anything else is `invalid_input`. */
function readResponse(value: unknown, field: string): { id: string; clientDataJSON: string } {
  const v = value as { id?: unknown; type?: unknown; response?: { clientDataJSON?: unknown } } | null;
  const ok = typeof v === 'object' && v !== null && !Array.isArray(v)
    && typeof v.id === 'string' && v.id.length > 0 && v.id.length <= 1024
    && v.type === 'public-key'
    && typeof v.response === 'object' && v.response !== null
    && typeof v.response.clientDataJSON === 'string' && v.response.clientDataJSON.length <= MAX_RESPONSE_FIELD_LENGTH
    && JSON.stringify(v).length <= 4 * MAX_RESPONSE_FIELD_LENGTH;
  if (!ok) throw new TwoFactorError('invalid_input', { field }, `The field "${field}" must be a WebAuthn credential response.`);
  return { id: v.id as string, clientDataJSON: v.response!.clientDataJSON as string };
}

/** The challenge the authenticator signed, read from clientDataJSON; null when unreadable. */
function signedChallenge(clientDataJSON: string): string | null {
  try {
    const data = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof data.challenge === 'string' && /^[A-Za-z0-9_-]{16,128}$/.test(data.challenge) ? data.challenge : null;
  } catch {
    return null;
  }
}

/** A new random binding for a session's challenges. */
export function newChallengeBinding(): string {
  return randomBytes(16).toString('base64url');
}

/** Takes the challenge the answer signed, if it was given to this session for this purpose and is still live. */
async function takeOwnChallenge(ctx: ServiceContext, userId: string, challenge: string | null, binding: string | undefined, purpose: PasskeyChallenge['purpose']): Promise<boolean> {
  if (challenge === null || binding === undefined) return false;
  const taken = await ctx.guard.takeChallenge(userId, binding, purpose, challenge);
  return taken !== null && taken.userId === userId && taken.expiresAt > ctx.now();
}

async function saveChallenge(ctx: ServiceContext, userId: string, challenge: string, binding: string, purpose: PasskeyChallenge['purpose']): Promise<void> {
  await ctx.guard.saveChallenge({ challenge, userId, purpose, binding, expiresAt: ctx.now() + PASSKEY_CHALLENGE_TTL_MS });
}

/** Options for `navigator.credentials.create()`; the challenge is kept for this session. */
export function passkeyRegistrationOptions(ctx: ServiceContext, userId: string, accountName: string, binding: string, rp: RelyingParty): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return ctx.guarded(async () => {
    const record = await ctx.records.get(userId);
    if (record.devices.length >= ctx.maxDevices) throw tooManyDevices(ctx);
    const options = await generateRegistrationOptions({
      rpName: rp.name, rpID: rp.id, userName: accountName,
      attestationType: 'none',
      excludeCredentials: descriptors(record),
      authenticatorSelection: { residentKey: 'preferred', userVerification: rp.userVerification },
      timeout: PASSKEY_CHALLENGE_TTL_MS,
    });
    await saveChallenge(ctx, userId, options.challenge, binding, 'register');
    return options;
  });
}

/** Verifies a registration against this session's challenge and links the passkey as a device. */
export function registerPasskey(ctx: ServiceContext, userId: string, nameInput: unknown, responseInput: unknown, binding: string | undefined, rp: RelyingParty, info: RequestInfo): Promise<PasskeyRegistered> {
  const name = readStringField(nameInput, 'name', MAX_NAME_LENGTH) ?? DEFAULT_PASSKEY_NAME;
  const { clientDataJSON } = readResponse(responseInput, 'credential');
  const challenge = signedChallenge(clientDataJSON);
  return ctx.guarded(async () => {
    const refused = () => new TwoFactorError('invalid_input', { field: 'credential' }, 'This passkey could not be registered: its answer does not match a challenge given to this session. Start again.');
    if (!(await takeOwnChallenge(ctx, userId, challenge, binding, 'register'))) throw refused();
    let verification;
    try {
      verification = await verifyRegistrationResponse({
        response: responseInput as RegistrationResponseJSON,
        expectedChallenge: challenge!, expectedOrigin: rp.origins, expectedRPID: rp.id,
        requireUserVerification: rp.userVerification === 'required',
      });
    } catch {
      throw refused();
    }
    if (!verification.verified) throw refused();
    const credential = verification.registrationInfo.credential;
    const record = await ctx.records.get(userId);
    if (passkeysOf(record).some((d) => d.passkey.credentialId === credential.id)) {
      throw new TwoFactorError('conflict', {}, 'This passkey is already linked.');
    }
    const now = ctx.now();
    const id = randomBytes(12).toString('base64url');
    const added = await ctx.records.addDevice(userId, {
      id, name, sealedSecret: '', createdAt: now, lastUsedAt: null,
      passkey: {
        credentialId: credential.id,
        publicKey: Buffer.from(credential.publicKey).toString('base64url'),
        counter: credential.counter,
        ...(credential.transports ? { transports: [...credential.transports] } : {}),
      },
    }, ctx.maxDevices);
    if (added === 'full') throw tooManyDevices(ctx);
    const first = added === 'added-first';
    const backupCodes = first ? await ctx.issueBackupCodes(userId) : undefined;
    const generation = first ? await ctx.records.bumpGeneration(userId) : record.generation;
    ctx.audit('passkey.registered', userId, info, 'success', { deviceId: id, firstDevice: first });
    return { state: 'active', deviceId: id, deviceName: name, ...(backupCodes ? { backupCodes } : {}), generation };
  });
}

/** Options for `navigator.credentials.get()` listing the user's passkeys; the challenge is kept for this session. */
export function passkeyAuthenticationOptions(ctx: ServiceContext, userId: string, binding: string, rp: RelyingParty): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return ctx.guarded(async () => {
    const record = await ctx.records.get(userId);
    const allowCredentials = descriptors(record);
    if (allowCredentials.length === 0) throw new TwoFactorError('invalid_input', { field: 'passkey' }, 'No passkey is linked to this account.');
    const options = await generateAuthenticationOptions({ rpID: rp.id, allowCredentials, userVerification: rp.userVerification, timeout: PASSKEY_CHALLENGE_TTL_MS });
    await saveChallenge(ctx, userId, options.challenge, binding, 'authenticate');
    return options;
  });
}

/**
 * Checks a passkey assertion like a code: one attempt of the IP's budget,
 * counted in the user's failure budget before it is judged (a success
 * starts the budget over), the same `invalid_code` for every refusal.
 */
export function checkPasskey(ctx: ServiceContext, userId: string, proof: PasskeyProof, info: RequestInfo): Promise<FactorChecked> {
  const response = readResponse(proof.response, 'passkey');
  return ctx.guarded(() => {
    const reading = ctx.records.get(userId);
    reading.catch(() => {});
    return withIpLimit(ctx, userId, info, async () => {
      const now = ctx.now();
      const counted = await ctx.guard.recordFailure(userId, ctx.limits, now);
      if (counted.kind !== 'rejected') return failed(ctx, userId, counted, info, { method: 'passkey' });
      const record = await reading;
      const challenge = signedChallenge(response.clientDataJSON);
      const own = await takeOwnChallenge(ctx, userId, challenge, proof.binding, 'authenticate');
      const device = passkeysOf(record).find((d) => d.passkey.credentialId === response.id);
      if (!own || !device) return failed(ctx, userId, counted, info, { method: 'passkey' });
      let newCounter: number;
      try {
        const verification = await verifyAuthenticationResponse({
          response: proof.response as AuthenticationResponseJSON,
          expectedChallenge: challenge!, expectedOrigin: proof.rp.origins, expectedRPID: proof.rp.id,
          credential: {
            id: device.passkey.credentialId,
            publicKey: Buffer.from(device.passkey.publicKey, 'base64url'),
            // The counter rule is applied by the store, atomically (below): the library only checks the signature.
            counter: 0,
            ...(device.passkey.transports ? { transports: device.passkey.transports as AuthenticatorTransport[] } : {}),
          },
          requireUserVerification: proof.rp.userVerification === 'required',
        });
        if (!verification.verified) return failed(ctx, userId, counted, info, { method: 'passkey' });
        newCounter = verification.authenticationInfo.newCounter;
      } catch {
        return failed(ctx, userId, counted, info, { method: 'passkey' });
      }
      const advanced = await ctx.records.advancePasskeyCounter(userId, device.id, newCounter);
      if (advanced !== 'advanced') {
        ctx.audit('passkey.counter_regression', userId, info, 'failure', { deviceId: device.id, counter: newCounter, stored: device.passkey.counter });
        return failed(ctx, userId, counted, info, { method: 'passkey' });
      }
      await ctx.guard.recordSuccess(userId, ctx.limits, now);
      ctx.records.touchDevice(userId, device.id, now).catch((err: unknown) => ctx.log(`koa-two-factor: could not record device use: ${String(err)}`));
      ctx.audit('verification.succeeded', userId, info, 'success', { method: 'passkey', deviceId: device.id });
      return { method: 'passkey', deviceId: device.id, backupCodesRemaining: record.backupCodesRemaining, generation: record.generation };
    }, { method: 'passkey' });
  });
}

function tooManyDevices(ctx: ServiceContext): TwoFactorError {
  return new TwoFactorError('conflict', {}, `At most ${ctx.maxDevices} authenticators can be linked.`);
}
