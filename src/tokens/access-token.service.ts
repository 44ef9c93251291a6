import type { Role } from '../users/role.enum';
import { decodeJson, signJws, splitJws, verifyJws } from './jws';
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
/** Longer input is refused before any decoding (ours are under 1 KB). */
const MAX_TOKEN_CHARS = 4096;

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
    const token = signJws(
      this.keys.alg,
      this.keys.privateKey,
      { typ: ACCESS_TOKEN_TYP, kid: this.keys.kid },
      { sub: userId, sid: sessionId, roles, iat: now, exp, iss: this.options.issuer, aud: this.options.audience },
    );
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

  /**
   * The signature by the key the header's kid names, under that key's own algorithm (a header
   * claiming any other, `none` or HS256 included, is refused), then the claims: issuer, audience,
   * expiry and not-before with the clock tolerance, and the types of sub, sid, roles, iat and exp.
   */
  private verifySignature(token: string): AccessClaims | null {
    if (token.length > MAX_TOKEN_CHARS) return null;
    const parts = splitJws(token);
    if (!parts) return null;
    const header = decodeJson(parts[0]);
    if (!header || header.typ !== ACCESS_TOKEN_TYP || typeof header.kid !== 'string') return null;
    const key = this.keys.verification.get(header.kid);
    if (!key || header.alg !== key.alg) return null;
    if (!verifyJws(key.alg, key.key, parts[0], parts[1], parts[2])) return null;
    const claims = decodeJson(parts[1]);
    if (!claims) return null;
    const { sub, sid, roles, iat, exp, nbf, iss, aud } = claims;
    if (iss !== this.options.issuer) return null;
    if (!(aud === this.options.audience || (Array.isArray(aud) && aud.includes(this.options.audience)))) return null;
    if (typeof sub !== 'string' || typeof sid !== 'string' || !Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) return null;
    if (typeof iat !== 'number' || typeof exp !== 'number') return null;
    const now = Date.now() / 1000;
    if (now >= exp + CLOCK_TOLERANCE_SECONDS) return null;
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + CLOCK_TOLERANCE_SECONDS)) return null;
    return { sub, sid, roles: roles as Role[], iat, exp };
  }
}
