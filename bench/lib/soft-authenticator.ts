import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/**
 * A software WebAuthn authenticator for the tests and the bench: real P-256 (ES256) key pairs from node:crypto,
 * real 'none' attestations and real assertions (authenticatorData with rpIdHash, flags, counter;
 * clientDataJSON; a DER ECDSA signature over authenticatorData || SHA-256(clientDataJSON)), as a
 * browser hands them to a relying party. Written from the WebAuthn Level 3 and CTAP2 texts, with
 * its own small CBOR encoder: nothing here shares code with the verifier in the service.
 */

const FLAG_UP = 0x01; // user present
const FLAG_UV = 0x04; // user verified
const FLAG_BE = 0x08; // backup eligible
const FLAG_BS = 0x10; // backed up
const FLAG_AT = 0x40; // attested credential data included

export interface SoftCredential {
  id: Buffer;
  privateKey: KeyObject;
  /** base64url user handle the relying party gave at registration. */
  userHandle: string;
  rpId: string;
  counter: number;
}

/** What a test may bend in a ceremony to play an attacker or a broken client. */
export interface Tweaks {
  origin?: string;
  rpId?: string;
  challenge?: string;
  type?: string;
  up?: boolean;
  uv?: boolean;
  /** The signature counter to report (default: the credential's counter advanced by counterStep). */
  counter?: number;
  credential?: SoftCredential;
  /** null: no user handle in the assertion. */
  userHandle?: string | null;
}

type Json = Record<string, any>;

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];

  /**
   * @param origin what this browser writes as clientDataJSON.origin
   * @param counterStep how much the counter grows per assertion (0: no counter, like synced passkeys)
   */
  constructor(
    readonly origin: string,
    readonly options: { counterStep?: number; aaguid?: Buffer; backedUp?: boolean } = {},
  ) {}

  /** navigator.credentials.create(): a new ES256 key pair for options.rp.id and its response JSON. */
  register(options: Json, tweaks: Tweaks = {}): Json {
    const { credential, cose } = newCredential(options.rp.id, options.user.id);
    const rpId = tweaks.rpId ?? options.rp.id;
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credential.id.length);
    const attested = Buffer.concat([this.options.aaguid ?? Buffer.alloc(16), idLength, credential.id, cose]);
    const authData = Buffer.concat([this.authDataHead(rpId, tweaks, FLAG_AT, 0), attested]);
    const clientDataJSON = this.clientData('webauthn.create', options.challenge, tweaks);
    const attestationObject = cbor(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
    this.credentials.push(credential);
    const id = credential.id.toString('base64url');
    return {
      id,
      rawId: id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: { credProps: { rk: true } },
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        attestationObject: attestationObject.toString('base64url'),
        transports: ['internal'],
      },
    };
  }

  /** navigator.credentials.get(): an assertion by an allowed credential (or, discoverable, this RP's newest). */
  assert(options: Json, tweaks: Tweaks = {}): Json {
    const allowed: string[] = (options.allowCredentials ?? []).map((c: { id: string }) => c.id);
    const credential =
      tweaks.credential ??
      [...this.credentials].reverse().find((c) => c.rpId === options.rpId && (allowed.length === 0 || allowed.includes(c.id.toString('base64url'))));
    if (!credential) throw new Error('the soft authenticator holds no credential for these options');
    const counter = tweaks.counter ?? (credential.counter += this.options.counterStep ?? 1);
    const authData = this.authDataHead(tweaks.rpId ?? credential.rpId, tweaks, 0, counter);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, tweaks);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), credential.privateKey);
    const id = credential.id.toString('base64url');
    const userHandle = tweaks.userHandle === undefined ? credential.userHandle : tweaks.userHandle;
    return {
      id,
      rawId: id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        authenticatorData: authData.toString('base64url'),
        signature: signature.toString('base64url'),
        ...(userHandle === null ? {} : { userHandle }),
      },
    };
  }

  /** Another device holding a copy of the same private key (a cloned authenticator), with a counter of its own. */
  clone(credential: SoftCredential): SoftAuthenticator {
    const copy = new SoftAuthenticator(this.origin, this.options);
    copy.credentials.push({ ...credential });
    return copy;
  }

  private authDataHead(rpId: string, tweaks: Tweaks, extraFlags: number, counter: number): Buffer {
    let flags = extraFlags;
    if (tweaks.up ?? true) flags |= FLAG_UP;
    if (tweaks.uv ?? true) flags |= FLAG_UV;
    if (this.options.backedUp) flags |= FLAG_BE | FLAG_BS;
    const signCount = Buffer.alloc(4);
    signCount.writeUInt32BE(counter);
    return Buffer.concat([sha256(Buffer.from(rpId, 'utf8')), Buffer.from([flags]), signCount]);
  }

  private clientData(type: string, challenge: string, tweaks: Tweaks): Buffer {
    return Buffer.from(JSON.stringify({ type: tweaks.type ?? type, challenge: tweaks.challenge ?? challenge, origin: tweaks.origin ?? this.origin, crossOrigin: false }), 'utf8');
  }
}

/**
 * A new ES256 credential for `rpId` and the account's `userHandle` (base64url), as register() makes
 * it, with its public key in COSE form: what the relying party stores (the bench seeds passkeys
 * with it without a registration ceremony each).
 */
export function newCredential(rpId: string, userHandle: string): { credential: SoftCredential; cose: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { credential: { id: randomBytes(16), privateKey, userHandle, rpId, counter: 0 }, cose: coseEs256(publicKey) };
}

/** A P-256 public key as a COSE_Key (RFC 9053), the form of attested credential data. */
export function coseEs256(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  return cbor(new Map<number, unknown>([
    [1, 2], // kty: EC2
    [3, -7], // alg: ES256
    [-1, 1], // crv: P-256
    [-2, Buffer.from(jwk.x!, 'base64url')],
    [-3, Buffer.from(jwk.y!, 'base64url')],
  ]));
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** CBOR (RFC 8949) for what WebAuthn needs: integers, byte and text strings, maps. */
function cbor(value: unknown): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Map) return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
  throw new Error(`cbor: cannot encode ${typeof value}`);
}

function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}
