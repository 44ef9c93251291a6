import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType({ description: 'A signed-in device of the caller.' })
export class Session {
  @Field(() => ID)
  id!: string;

  @Field()
  createdAt!: Date;

  @Field()
  lastUsedAt!: Date;

  @Field({ description: 'When the session ends unless refreshed first (idle limit), never after its absolute limit.' })
  expiresAt!: Date;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field(() => String, { nullable: true })
  ipAddress!: string | null;

  @Field({ description: 'True for the session that the calling access token belongs to.' })
  current!: boolean;
}
