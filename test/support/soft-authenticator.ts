/**
 * A software WebAuthn authenticator for tests, so passkey/security-key code
 * can be tested in Node without a browser. It really implements the
 * authenticator side: ES256 (P-256) key pairs from node:crypto, 'none'
 * attestation, authenticator data, and signed assertions that
 * @simplewebauthn/server verifies. It plays the browser's part too (builds
 * clientDataJSON) but skips the browser's origin/rpId checks, so tests can
 * forge foreign origins, challenges and counters on purpose.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';

export interface SoftCredential {
  /** base64url credential id */
  id: string;
  privateKey: KeyObject;
  publicKeyCose: Uint8Array;
  /** The stored signature counter (last value this authenticator used). */
  counter: number;
  /** base64url user handle (options.user.id at registration) */
  userHandle: string;
}

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;
const COSE_ALG_ES256 = -7;

/** A fresh Uint8Array<ArrayBuffer> copy (what @simplewebauthn's types want). */
function bytes(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(data.byteLength);
  out.set(data);
  return out;
}

function sha256(data: Uint8Array | string): Uint8Array<ArrayBuffer> {
  return bytes(createHash('sha256').update(data).digest());
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function uint32BE(n: number): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`signCount out of range: ${n}`);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

/** The rpId the browser would default to: the origin's host name. */
function defaultRpId(origin: string): string {
  return new URL(origin).hostname;
}

function clientDataJSON(type: 'webauthn.create' | 'webauthn.get', challenge: string, origin: string): Uint8Array<ArrayBuffer> {
  return bytes(Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), 'utf8'));
}

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];
  readonly #aaguid: Uint8Array;
  readonly #userVerification: boolean;
  readonly #signCount: 'increment' | 'zero';
  /** credential id → the rpId it was created for */
  readonly #rpIds = new Map<string, string>();

  constructor(o: { aaguid?: Uint8Array; userVerification?: boolean; signCount?: 'increment' | 'zero' } = {}) {
    const aaguid = o.aaguid ?? new Uint8Array(16);
    if (aaguid.byteLength !== 16) throw new RangeError(`aaguid must be 16 bytes, got ${aaguid.byteLength}`);
    this.#aaguid = bytes(aaguid);
    this.#userVerification = o.userVerification ?? true;
    this.#signCount = o.signCount ?? 'increment';
  }

  /**
   * Answers PublicKeyCredentialCreationOptionsJSON (as generateRegistrationOptions returns it) for
   * `origin`; returns RegistrationResponseJSON. Creates an ES256 (P-256) key pair, attestation
   * format 'none'. Refuses (throws) if one of options.excludeCredentials is already held, or if
   * options.pubKeyCredParams does not offer ES256.
   */
  register(options: PublicKeyCredentialCreationOptionsJSON, origin: string): RegistrationResponseJSON {
    const rpId = options.rp.id ?? defaultRpId(origin);
    const params = options.pubKeyCredParams;
    // An empty list means "the defaults" (ES256 and RS256) per WebAuthn.
    if (params.length > 0 && !params.some((p) => p.type === 'public-key' && p.alg === COSE_ALG_ES256)) {
      throw new Error('SoftAuthenticator: pubKeyCredParams does not offer ES256 (-7)');
    }
    for (const excluded of options.excludeCredentials ?? []) {
      if (this.#find(excluded.id)) {
        throw new Error(`SoftAuthenticator: credential ${excluded.id} is in excludeCredentials and already held`);
      }
    }

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    if (jwk.x === undefined || jwk.y === undefined) throw new Error('SoftAuthenticator: P-256 JWK without x/y');
    const publicKeyCose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2], // kty: EC2
        [3, COSE_ALG_ES256], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, isoBase64URL.toBuffer(jwk.x)],
        [-3, isoBase64URL.toBuffer(jwk.y)],
      ]),
    );

    const credentialId = bytes(randomBytes(32));
    const id = isoBase64URL.fromBuffer(credentialId);
    const credIdLen = new Uint8Array([credentialId.byteLength >> 8, credentialId.byteLength & 0xff]);
    const counter = 0;
    const authData = concat(
      sha256(rpId),
      new Uint8Array([this.#flags() | FLAG_AT]),
      uint32BE(counter),
      this.#aaguid,
      credIdLen,
      credentialId,
      publicKeyCose,
    );
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, never>>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, never>()],
        ['authData', authData],
      ]),
    );

    this.credentials.push({ id, privateKey, publicKeyCose, counter, userHandle: options.user.id });
    this.#rpIds.set(id, rpId);

    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: isoBase64URL.fromBuffer(clientDataJSON('webauthn.create', options.challenge, origin)),
        attestationObject: isoBase64URL.fromBuffer(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /**
   * Answers PublicKeyCredentialRequestOptionsJSON for `origin`; uses the first held credential
   * listed in options.allowCredentials (or any held credential for options.rpId when the list is
   * empty); throws if none. Like a real authenticator, it only uses credentials made for this
   * rpId (options.rpId, else the origin's host name). Increments the counter by 1 per assertion
   * when signCount is 'increment' (default); always 0 when 'zero'.
   * - `o.counter` overrides the counter written in this assertion (to test regressions) without
   *   changing the stored one unless it is higher;
   * - `o.challenge` overrides the challenge written into clientDataJSON (foreign challenges);
   * - `o.credentialId` picks that held credential, even if it is not in allowCredentials or was
   *   made for another rpId (to test that the server refuses it); throws if it is not held.
   */
  authenticate(
    options: PublicKeyCredentialRequestOptionsJSON,
    origin: string,
    o: { counter?: number; challenge?: string; credentialId?: string } = {},
  ): AuthenticationResponseJSON {
    const rpId = options.rpId ?? defaultRpId(origin);
    const credential = this.#choose(options, rpId, o.credentialId);

    const next = this.#signCount === 'increment' ? credential.counter + 1 : 0;
    let written: number;
    if (o.counter === undefined) {
      written = next;
      credential.counter = next;
    } else {
      written = o.counter;
      credential.counter = Math.max(credential.counter, o.counter);
    }

    const authData = concat(sha256(rpId), new Uint8Array([this.#flags()]), uint32BE(written));
    const clientData = clientDataJSON('webauthn.get', o.challenge ?? options.challenge, origin);
    const signature = bytes(sign('sha256', concat(authData, sha256(clientData)), credential.privateKey));

    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: isoBase64URL.fromBuffer(clientData),
        authenticatorData: isoBase64URL.fromBuffer(authData),
        signature: isoBase64URL.fromBuffer(signature),
        userHandle: credential.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  #flags(): number {
    return FLAG_UP | (this.#userVerification ? FLAG_UV : 0);
  }

  #find(id: string): SoftCredential | undefined {
    return this.credentials.find((c) => c.id === id);
  }

  #choose(options: PublicKeyCredentialRequestOptionsJSON, rpId: string, forcedId: string | undefined): SoftCredential {
    if (forcedId !== undefined) {
      const forced = this.#find(forcedId);
      if (!forced) throw new Error(`SoftAuthenticator: credential ${forcedId} is not held`);
      return forced;
    }
    const allowed = options.allowCredentials ?? [];
    const found =
      allowed.length > 0
        ? allowed.map((d) => this.#find(d.id)).find((c) => c !== undefined && this.#rpIds.get(c.id) === rpId)
        : this.credentials.find((c) => this.#rpIds.get(c.id) === rpId);
    if (!found) throw new Error(`SoftAuthenticator: no held credential for rpId ${rpId} matches allowCredentials`);
    return found;
  }
}
