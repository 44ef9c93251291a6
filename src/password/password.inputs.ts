import { Field, InputType } from 'type-graphql';

@InputType()
export class RegisterInput {
  @Field()
  email!: string;

  @Field()
  password!: string;

  @Field(() => String, { nullable: true })
  username?: string | null;
}

@InputType()
export class LoginInput {
  @Field({ description: "The account's email or username." })
  identifier!: string;

  @Field()
  password!: string;
}
