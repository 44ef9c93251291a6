import { Field, Int, ObjectType } from 'type-graphql';
import { User } from '../users/user.type';

@ObjectType({ description: 'Issued on register, on login without 2FA, after the 2FA step, and on refresh.' })
export class AuthPayload {
  @Field()
  accessToken!: string;

  @Field({ description: 'Always "Bearer".' })
  tokenType!: string;

  @Field(() => Int, { description: 'Seconds until accessToken expires.' })
  expiresIn!: number;

  @Field({ description: 'Opaque, single-use: every refresh returns a new one and retires the old one.' })
  refreshToken!: string;

  @Field(() => User)
  user!: User;
}
