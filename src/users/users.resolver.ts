import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../context/context';
import { viewerOf } from '../context/viewer';
import { CoreErrors } from '../errors/core-errors';
import { Auth } from '../guards/auth.decorator';
import { Role } from './role.enum';
import { UserConnection } from './user-connection.type';
import { USERS_PAGE_DEFAULT, type UsersService } from './users.service';
import { User } from './user.type';

@Resolver()
export class UsersResolver {
  constructor(private readonly usersService: UsersService) {}

  @Auth()
  @Query(() => User, { description: 'The signed-in account.' })
  async me(@Ctx() ctx: GraphQLContext): Promise<User> {
    const user = await this.usersService.findById(viewerOf(ctx).userId);
    if (!user) throw CoreErrors.UNAUTHENTICATED();
    return user;
  }

  @Auth(Role.ADMIN)
  @Query(() => UserConnection, { description: 'All accounts, oldest first; `search` matches email or username.' })
  users(
    @Arg('first', () => Int, { nullable: true, defaultValue: USERS_PAGE_DEFAULT }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('search', () => String, { nullable: true }) search: string | null,
  ): Promise<UserConnection> {
    return this.usersService.list(first ?? USERS_PAGE_DEFAULT, after, search);
  }

  @Auth(Role.ADMIN)
  @Mutation(() => User, { description: "Replaces an account's roles." })
  setUserRoles(
    @Arg('userId', () => ID) userId: string,
    @Arg('roles', () => [Role]) roles: Role[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<User> {
    return this.usersService.setRoles(viewerOf(ctx).userId, userId, roles, ctx.request);
  }
}
