import type { AuthCheckerInterface, ResolverData } from 'type-graphql';
import type { GraphQLContext } from '../context/context';
import { ForbiddenError, ServiceUnavailableError, UnauthenticatedError } from '../errors/app-errors';
import type { Role } from '../users/role.enum';

/**
 * Enforces `@Auth(...)`: no valid access token is UNAUTHENTICATED (whatever roles the field needs),
 * a valid one without a required role is FORBIDDEN. Role checks read the account's roles as they
 * are now, so a demoted administrator loses access at once, not when the token expires.
 */
export class AuthChecker implements AuthCheckerInterface<GraphQLContext, Role> {
  async check({ context }: ResolverData<GraphQLContext>, roles: Role[]): Promise<boolean> {
    const viewer = context.viewer;
    if (!viewer) {
      if (context.credentialProblem === 'unverifiable') throw new ServiceUnavailableError();
      throw new UnauthenticatedError();
    }
    if (roles.length === 0) return true;
    const current = await context.services.users.currentRoles(viewer.userId);
    if (!roles.some((role) => current.includes(role))) throw new ForbiddenError();
    return true;
  }
}
