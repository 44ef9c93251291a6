import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import { PageInfo } from '../users/user-connection.type';

@ObjectType({ description: 'One security event of the audit log.' })
export class AuditEvent {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'The event\'s type, e.g. login.failed, password.changed (CONTRACT.md lists them).' })
  type!: string;

  @Field(() => ID, { nullable: true })
  userId!: string | null;

  @Field(() => ID, { nullable: true })
  sessionId!: string | null;

  @Field(() => String, { nullable: true })
  ipAddress!: string | null;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field()
  createdAt!: Date;

  @Field(() => GraphQLJSONObject, { description: 'Extra facts of the event; never a secret.' })
  data!: Record<string, unknown>;
}

@ObjectType()
export class AuditEventConnection {
  @Field(() => [AuditEvent])
  nodes!: AuditEvent[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
