import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../context/context';
import { viewerOf } from '../context/viewer';
import { Auth } from '../guards/auth.decorator';
import { Role } from './role.enum';
import { UserConnection } from './user-connection.type';
import { USERS_PAGE_DEFAULT } from './users.service';
import { User } from './user.type';

@Resolver()
export class UsersResolver {
  @Auth(Role.ADMIN)
  @Query(() => UserConnection, { description: 'All accounts, oldest first; `search` matches email or username.' })
  users(
    @Arg('first', () => Int, { nullable: true, defaultValue: USERS_PAGE_DEFAULT }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('search', () => String, { nullable: true }) search: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<UserConnection> {
    return ctx.services.users.list(first ?? USERS_PAGE_DEFAULT, after, search);
  }

  @Auth(Role.ADMIN)
  @Mutation(() => User, { description: "Replaces an account's roles." })
  setUserRoles(
    @Arg('userId', () => ID) userId: string,
    @Arg('roles', () => [Role]) roles: Role[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<User> {
    return ctx.services.users.setRoles(viewerOf(ctx).userId, userId, roles, ctx.request);
  }
}
