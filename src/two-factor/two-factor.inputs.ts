import { Field, InputType } from 'type-graphql';

@InputType()
export class VerifyTwoFactorInput {
  @Field()
  challengeToken!: string;

  @Field({ description: 'A current TOTP code, or one unused recovery code.' })
  code!: string;
}
