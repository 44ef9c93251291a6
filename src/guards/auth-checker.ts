import type { AuthCheckerInterface, ResolverData } from 'type-graphql';
import type { GraphQLContext } from '../context/context';
import { CoreErrors, serviceUnavailable } from '../errors/core-errors';
import type { Role } from '../users/role.enum';

/** Where the guard reads an account's roles as they are now. */
export interface RoleSource {
  currentRoles(userId: string): Promise<Role[]>;
}

/**
 * Enforces `@Auth(...)`: no valid access token is UNAUTHENTICATED (whatever roles the field needs),
 * a valid one without a required role is FORBIDDEN. Role checks read the account's roles as they
 * are now, so a demoted administrator loses access at once, not when the token expires.
 */
export class AuthChecker implements AuthCheckerInterface<GraphQLContext, Role> {
  constructor(private readonly roles: RoleSource) {}

  async check({ context }: ResolverData<GraphQLContext>, roles: Role[]): Promise<boolean> {
    const viewer = context.viewer;
    if (!viewer) {
      if (context.credentialProblem === 'unverifiable') throw serviceUnavailable();
      throw CoreErrors.UNAUTHENTICATED();
    }
    if (roles.length === 0) return true;
    const current = await this.roles.currentRoles(viewer.userId);
    if (!roles.some((role) => current.includes(role))) throw CoreErrors.FORBIDDEN();
    return true;
  }
}
