import type { Role } from '../users/role.enum';
import type { Services } from '../app/services';
import type { RequestInfo } from './request-info';

/** The caller behind a valid, unrevoked access token. */
export interface Viewer {
  userId: string;
  sessionId: string;
  roles: Role[];
}

export interface GraphQLContext {
  viewer: Viewer | null;
  /** Why a presented Bearer token gave no viewer; only guards act on it. */
  credentialProblem: 'invalid' | 'revoked' | 'unverifiable' | null;
  request: RequestInfo;
  services: Services;
}

// RFC 9110 §11.1: the scheme is case-insensitive and followed by 1*SP; RFC 6750 §2.1: b64token.
const BEARER = /^bearer +([A-Za-z0-9._~+/-]+=*)$/i;

/** Decodes the Bearer token once per request; never throws, so public operations still run. */
export function buildContext(services: Services, authorization: string | undefined, request: RequestInfo): GraphQLContext {
  const context: GraphQLContext = { viewer: null, credentialProblem: null, request, services };
  if (!authorization) return context;
  const match = BEARER.exec(authorization.trim());
  const claims = match ? services.accessTokens.verify(match[1]) : null;
  if (!claims) {
    context.credentialProblem = 'invalid';
  } else if (services.revocations.isRevoked(claims.sid)) {
    context.credentialProblem = 'revoked';
  } else if (!services.revocations.isFresh()) {
    // Cannot tell whether the session was revoked elsewhere in the last seconds.
    context.credentialProblem = 'unverifiable';
  } else {
    context.viewer = { userId: claims.sub, sessionId: claims.sid, roles: claims.roles };
  }
  return context;
}
