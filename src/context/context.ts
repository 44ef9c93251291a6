import type { RevocationWatcher } from '../sessions/revocation-watcher';
import type { AccessTokenService } from '../tokens/access-token.service';
import type { RequestInfo } from './request-info';
import type { Viewer } from './viewer';

/**
 * What a resolver knows about the request: the caller and the transport facts. Services are not
 * here: resolvers get them by injection (src/app/container.ts).
 */
export interface GraphQLContext {
  viewer: Viewer | null;
  /** Why a presented Bearer token gave no viewer; only guards act on it. */
  credentialProblem: 'invalid' | 'revoked' | 'unverifiable' | null;
  request: RequestInfo;
}

/** What the context builder needs to turn a Bearer token into a viewer. */
export interface CredentialVerifier {
  accessTokens: AccessTokenService;
  revocations: RevocationWatcher;
}

// RFC 9110 §11.1: the scheme is case-insensitive and followed by 1*SP; RFC 6750 §2.1: b64token.
const BEARER = /^bearer +([A-Za-z0-9._~+/-]+=*)$/i;

/** Decodes the Bearer token once per request; never throws, so public operations still run. */
export function buildContext(verifier: CredentialVerifier, authorization: string | undefined, request: RequestInfo): GraphQLContext {
  const context: GraphQLContext = { viewer: null, credentialProblem: null, request };
  if (!authorization) return context;
  const match = BEARER.exec(authorization.trim());
  const claims = match ? verifier.accessTokens.verify(match[1]) : null;
  if (!claims) {
    context.credentialProblem = 'invalid';
  } else if (verifier.revocations.isRevoked(claims.sid)) {
    context.credentialProblem = 'revoked';
  } else if (!verifier.revocations.isFresh()) {
    // Cannot tell whether the session was revoked elsewhere in the last seconds.
    context.credentialProblem = 'unverifiable';
  } else {
    context.viewer = { userId: claims.sub, sessionId: claims.sid, roles: claims.roles };
  }
  return context;
}
