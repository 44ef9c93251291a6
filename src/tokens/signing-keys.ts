import { createHash, createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ConfigError } from '../config/parse';

export type SigningAlgorithm = 'ES256' | 'RS256';

export interface VerificationKey {
  kid: string;
  alg: SigningAlgorithm;
  key: KeyObject;
  jwk: JsonWebKey & { kid: string; alg: SigningAlgorithm; use: 'sig' };
}

export interface SigningKeys {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject;
  /** The current key first, then retired ones whose tokens may still be alive. */
  verification: Map<string, VerificationKey>;
  jwks: { keys: VerificationKey['jwk'][] };
}

const MIN_RSA_BITS = 2048;

function algorithmOf(key: KeyObject, variable: string): SigningAlgorithm {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= MIN_RSA_BITS) return 'RS256';
  throw new ConfigError(variable, 'must be an EC P-256 key (ES256) or an RSA key of at least 2048 bits (RS256)');
}

/** RFC 7638 thumbprint: the same key always gets the same kid, on every instance. */
function thumbprint(jwk: JsonWebKey): string {
  const members =
    jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function verificationKey(publicKey: KeyObject, variable: string): VerificationKey {
  const alg = algorithmOf(publicKey, variable);
  const exported = publicKey.export({ format: 'jwk' });
  const kid = thumbprint(exported);
  return { kid, alg, key: publicKey, jwk: { ...exported, kid, alg, use: 'sig' } };
}

/**
 * Turns PEM strings into KeyObjects once at start: jsonwebtoken re-parses a PEM string on every
 * call, which makes signing and verifying many times slower.
 */
export function loadSigningKeys(privatePem: string, previousPublicPems: string[] = []): SigningKeys {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: privatePem, format: 'pem' });
  } catch {
    throw new ConfigError('JWT_PRIVATE_KEY', 'is not a readable PKCS#8 PEM private key');
  }
  const current = verificationKey(createPublicKey(privateKey), 'JWT_PRIVATE_KEY');
  const verification = new Map<string, VerificationKey>([[current.kid, current]]);
  for (const pem of previousPublicPems) {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: pem, format: 'pem' });
    } catch {
      throw new ConfigError('JWT_PREVIOUS_PUBLIC_KEYS', 'holds a PEM that is not a public key');
    }
    const previous = verificationKey(key, 'JWT_PREVIOUS_PUBLIC_KEYS');
    verification.set(previous.kid, previous);
  }
  return {
    kid: current.kid,
    alg: current.alg,
    privateKey,
    verification,
    jwks: { keys: [...verification.values()].map((k) => k.jwk) },
  };
}
