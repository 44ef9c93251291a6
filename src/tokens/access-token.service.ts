import jwt from 'jsonwebtoken';
import type { Role } from '../users/role.enum';
import type { SigningKeys } from './signing-keys';

/** RFC 9068 media type: lets a verifier tell an access token from any other JWT. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
/** Seconds of clock difference between instances that verification forgives. */
const CLOCK_TOLERANCE_SECONDS = 5;
/**
 * Tokens whose signature was checked, kept until they expire: a client sends the same token for its
 * whole lifetime, and an ES256 verification costs as much as the rest of an authenticated request.
 * Keyed by the whole token string, signature included, so only a byte-identical token hits.
 */
const VERIFIED_CACHE_ENTRIES = 20_000; // about 15 MB at most (a token and its claims are under 1 KB)

export interface AccessClaims {
  sub: string;
  sid: string;
  roles: Role[];
  iat: number;
  exp: number;
}

export interface AccessTokenOptions {
  issuer: string;
  audience: string;
  ttlSeconds: number;
  /** Size of the verified-token cache (default VERIFIED_CACHE_ENTRIES). */
  verifiedCacheEntries?: number;
}

export class AccessTokenService {
  private readonly verified = new Map<string, AccessClaims>();

  constructor(
    private readonly keys: SigningKeys,
    private readonly options: AccessTokenOptions,
  ) {}

  /** Signs a token that ends no later than its session does. Returns it with its lifetime in seconds. */
  issue(userId: string, sessionId: string, roles: Role[], sessionEndsAt: Date): { token: string; expiresIn: number } {
    const now = Math.floor(Date.now() / 1000);
    const exp = Math.min(now + this.options.ttlSeconds, Math.floor(sessionEndsAt.getTime() / 1000));
    const token = jwt.sign({ sid: sessionId, roles, iat: now, exp }, this.keys.privateKey, {
      algorithm: this.keys.alg,
      keyid: this.keys.kid,
      header: { alg: this.keys.alg, kid: this.keys.kid, typ: ACCESS_TOKEN_TYP },
      subject: userId,
      issuer: this.options.issuer,
      audience: this.options.audience,
    });
    return { token, expiresIn: Math.max(0, exp - now) };
  }

  /**
   * Verifies signature, algorithm (pinned to the key's own), issuer, audience, expiry and type.
   * Returns null for anything that is not a valid access token of this service.
   */
  verify(token: string): AccessClaims | null {
    const cached = this.verified.get(token);
    if (cached) {
      this.verified.delete(token);
      if (cached.exp + CLOCK_TOLERANCE_SECONDS <= Date.now() / 1000) return null;
      this.verified.set(token, cached); // most recently used last: eviction takes the coldest
      return cached;
    }
    const claims = this.verifySignature(token);
    if (claims) {
      // Least recently used first out: a Map iterates in insertion order.
      if (this.verified.size >= (this.options.verifiedCacheEntries ?? VERIFIED_CACHE_ENTRIES)) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, claims);
    }
    return claims;
  }

  private verifySignature(token: string): AccessClaims | null {
    const header = decodeHeader(token);
    if (!header || header.typ !== ACCESS_TOKEN_TYP || typeof header.kid !== 'string') return null;
    const key = this.keys.verification.get(header.kid);
    if (!key || header.alg !== key.alg) return null;
    try {
      const claims = jwt.verify(token, key.key, {
        algorithms: [key.alg],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
      if (typeof claims !== 'object' || claims === null) return null;
      const { sub, sid, roles, iat, exp } = claims as Partial<AccessClaims>;
      if (typeof sub !== 'string' || typeof sid !== 'string' || !Array.isArray(roles)) return null;
      if (typeof iat !== 'number' || typeof exp !== 'number') return null;
      return { sub, sid, roles, iat, exp };
    } catch {
      return null;
    }
  }
}

function decodeHeader(token: string): { alg?: unknown; kid?: unknown; typ?: unknown } | null {
  const dot = token.indexOf('.');
  if (dot <= 0 || token.length > 4096) return null;
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null ? header : null;
  } catch {
    return null;
  }
}
