import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: "One of the caller's passkeys. Holds no key material." })
export class Passkey {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'Chosen by the user; defaults to a name derived from the authenticator.' })
  name!: string;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  lastUsedAt!: Date | null;

  @Field({ description: 'True when the credential is synced (backed up) by its provider.' })
  backedUp!: boolean;
}

@ObjectType({
  description: `One WebAuthn ceremony: options is PublicKeyCredentialCreationOptionsJSON (registration) or
PublicKeyCredentialRequestOptionsJSON (authentication), ready for
PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON in a browser.`,
})
export class PasskeyOptions {
  @Field(() => ID)
  challengeId!: string;

  @Field(() => GraphQLJSONObject)
  options!: Record<string, unknown>;

  @Field(() => Int, { description: 'Seconds until this ceremony expires.' })
  expiresIn!: number;
}

/** A passkeys row as the queries select it. */
export interface PasskeyRow {
  id: string;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
  backed_up: boolean;
}

export const PASSKEY_COLUMNS = 'id, name, created_at, last_used_at, backed_up';

export function toPasskey(row: PasskeyRow): Passkey {
  return Object.assign(new Passkey(), { id: row.id, name: row.name, createdAt: row.created_at, lastUsedAt: row.last_used_at, backedUp: row.backed_up });
}
