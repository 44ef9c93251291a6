import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'A provider configured on this instance, for a sign-in button.' })
export class OAuthProvider {
  @Field(() => ID, { description: 'The id used in startOAuthLogin (from configuration, e.g. "google", "github", "acme").' })
  id!: string;

  @Field({ description: 'A display name for a sign-in button.' })
  name!: string;
}

@ObjectType({ description: 'Where to send the browser to sign in (or link) with a provider.' })
export class OAuthAuthorization {
  @Field({ description: "Where the browser goes next: the provider's authorization endpoint with state, nonce and PKCE." })
  authorizationUrl!: string;

  @Field({ description: 'The state parameter the provider will send back to redirectUri.' })
  state!: string;

  @Field(() => Int, { description: 'Seconds until this flow expires.' })
  expiresIn!: number;
}

@ObjectType({ description: "A provider account linked to the caller's account: signing in there signs in here." })
export class LinkedAccount {
  @Field(() => ID)
  id!: string;

  @Field({ description: "The provider's id, as in OAuthProvider.id." })
  provider!: string;

  @Field(() => String, { nullable: true, description: 'The address the provider reported, if any.' })
  email!: string | null;

  @Field()
  createdAt!: Date;
}
