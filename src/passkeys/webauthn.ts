import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { CEREMONY_TTL_SECONDS } from './ceremonies';
import type { PasskeysConfig } from './passkeys.config';

/**
 * The one place that talks to @simplewebauthn/server: every attestation and assertion is parsed
 * and verified there (CBOR, COSE keys, signatures, flags, origin, RP ID), never by hand here.
 */

/** EdDSA, ES256, RS256 (COSE identifiers): what every current authenticator offers one of. */
const SUPPORTED_ALGORITHMS = [-8, -7, -257];
const CEREMONY_TIMEOUT_MS = CEREMONY_TTL_SECONDS * 1000;
/** Longest credential ID accepted: 1,023 bytes (WebAuthn Level 3) in base64url. */
const MAX_CREDENTIAL_ID_CHARS = 1364;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

export interface CredentialDescriptor {
  id: string;
  transports: string[];
}

export type Verified<T> = { ok: true; value: T } | { ok: false; detail: string };

export interface NewCredential {
  credentialId: string;
  publicKey: Buffer;
  counter: number;
  transports: string[];
  aaguid: string;
  deviceType: string;
  backedUp: boolean;
}

export interface Assertion {
  newCounter: number;
  backedUp: boolean;
  userVerified: boolean;
}

export class WebAuthn {
  constructor(private readonly config: PasskeysConfig) {}

  registrationOptions(input: { userName: string; displayName: string; userHandle: Buffer; challenge: Buffer; exclude: CredentialDescriptor[] }): Promise<object> {
    return generateRegistrationOptions({
      rpName: this.config.rpName,
      rpID: this.config.rpId,
      userName: input.userName,
      userDisplayName: input.displayName,
      userID: new Uint8Array(input.userHandle),
      challenge: new Uint8Array(input.challenge),
      timeout: CEREMONY_TIMEOUT_MS,
      attestationType: 'none',
      excludeCredentials: input.exclude.map(descriptor),
      // A discoverable credential (resident key): what lets a person sign in without typing anything.
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      extensions: { credProps: true },
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
  }

  authenticationOptions(input: { challenge: Buffer; allow: CredentialDescriptor[]; userVerification: 'required' | 'discouraged' }): Promise<object> {
    return generateAuthenticationOptions({
      rpID: this.config.rpId,
      challenge: new Uint8Array(input.challenge),
      timeout: CEREMONY_TIMEOUT_MS,
      allowCredentials: input.allow.map(descriptor),
      userVerification: input.userVerification,
    });
  }

  async verifyRegistration(response: Record<string, unknown>, expectedChallenge: string): Promise<Verified<NewCredential>> {
    try {
      const result = await verifyRegistrationResponse({
        response: response as unknown as RegistrationResponseJSON,
        expectedChallenge,
        expectedOrigin: this.config.origins,
        expectedRPID: this.config.rpId,
        expectedType: 'webauthn.create',
        requireUserPresence: true,
        // A security key without UV may still serve as a second factor; passwordless sign-in demands UV itself.
        requireUserVerification: false,
        supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
      });
      if (!result.verified) return { ok: false, detail: 'registration not verified' };
      const info = result.registrationInfo;
      return {
        ok: true,
        value: {
          credentialId: info.credential.id,
          publicKey: Buffer.from(info.credential.publicKey),
          counter: info.credential.counter,
          transports: (info.credential.transports ?? []).filter((t) => TRANSPORTS.has(t)),
          aaguid: info.aaguid,
          deviceType: info.credentialDeviceType,
          backedUp: info.credentialBackedUp,
        },
      };
    } catch (error) {
      return { ok: false, detail: messageOf(error) };
    }
  }

  /**
   * Verifies an assertion of a stored credential. The stored counter is deliberately not handed to
   * the library: the caller compares and stores it in one statement, so two racing assertions
   * cannot both pass a check made on the same old value.
   */
  async verifyAssertion(
    response: Record<string, unknown>,
    expectedChallenge: string,
    credential: { credentialId: string; publicKey: Buffer },
    requireUserVerification: boolean,
  ): Promise<Verified<Assertion>> {
    try {
      const result = await verifyAuthenticationResponse({
        response: response as unknown as AuthenticationResponseJSON,
        expectedChallenge,
        expectedOrigin: this.config.origins,
        expectedRPID: this.config.rpId,
        expectedType: 'webauthn.get',
        credential: { id: credential.credentialId, publicKey: new Uint8Array(credential.publicKey), counter: 0 },
        requireUserVerification,
      });
      if (!result.verified) return { ok: false, detail: 'signature not verified' };
      const info = result.authenticationInfo;
      return { ok: true, value: { newCounter: info.newCounter, backedUp: info.credentialBackedUp, userVerified: info.userVerified } };
    } catch (error) {
      return { ok: false, detail: messageOf(error) };
    }
  }
}

/** The credential ID a response names (`id`), when it is one we could have stored. */
export function credentialIdOf(response: Record<string, unknown>): string | null {
  const id = response.id;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_CREDENTIAL_ID_CHARS || !BASE64URL.test(id)) return null;
  return response.rawId === undefined || response.rawId === id ? id : null;
}

/** The user handle of an assertion (base64url), or null when the authenticator gave none. */
export function userHandleOf(response: Record<string, unknown>): string | null {
  const inner = response.response;
  if (!inner || typeof inner !== 'object') return null;
  const handle = (inner as Record<string, unknown>).userHandle;
  return typeof handle === 'string' && handle.length > 0 && handle.length <= 128 && BASE64URL.test(handle) ? handle : null;
}

function descriptor(d: CredentialDescriptor): { id: string; transports?: string[] } {
  const transports = d.transports.filter((t) => TRANSPORTS.has(t));
  return transports.length ? { id: d.id, transports } : { id: d.id };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 300) : 'verification failed';
}
