import { Field, ID, ObjectType } from 'type-graphql';
import { Role } from './role.enum';

/** An account as clients see it. No secret field exists here to leak. */
@ObjectType({ description: 'An account. Holds no secret: password hashes and TOTP secrets never leave the service.' })
export class User {
  @Field(() => ID)
  id!: string;

  @Field()
  email!: string;

  @Field(() => String, { nullable: true })
  username!: string | null;

  @Field()
  emailVerified!: boolean;

  @Field(() => [Role])
  roles!: Role[];

  @Field()
  twoFactorEnabled!: boolean;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'Set while an administrator has locked the account: it cannot sign in or refresh.' })
  lockedAt!: Date | null;
}

/** The columns `User` is made of; what the hot-path queries select. */
export interface UserRow {
  id: string;
  email: string;
  username: string | null;
  email_verified: boolean;
  roles: Role[];
  two_factor_enabled: boolean;
  created_at: Date;
  locked_at: Date | null;
}

export const USER_COLUMNS = 'id, email, username, email_verified, roles, two_factor_enabled, created_at, locked_at';

export function toUser(row: UserRow): User {
  return Object.assign(new User(), {
    id: row.id,
    email: row.email,
    username: row.username,
    emailVerified: row.email_verified,
    roles: row.roles,
    twoFactorEnabled: row.two_factor_enabled,
    createdAt: row.created_at,
    lockedAt: row.locked_at,
  });
}
