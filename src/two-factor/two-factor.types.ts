import { Field, ObjectType } from 'type-graphql';

@ObjectType({ description: 'What an authenticator app needs to enrol; returned only before confirmation.' })
export class TwoFactorSetup {
  @Field({ description: 'Base32 TOTP secret (RFC 6238: SHA1, 6 digits, 30 s period).' })
  secret!: string;

  @Field({ description: 'otpauth://totp/... URI for authenticator apps.' })
  otpauthUrl!: string;

  @Field({ description: 'A QR code of otpauthUrl as a data: URL (image/svg+xml or image/png).' })
  qrCodeDataUrl!: string;
}

@ObjectType({ description: 'Single-use recovery codes, shown once.' })
export class RecoveryCodes {
  @Field(() => [String], { description: 'Shown once; each code works once in place of a TOTP code.' })
  codes!: string[];
}
