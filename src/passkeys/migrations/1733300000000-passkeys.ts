import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Passkeys (WebAuthn credentials), the accounts' random user handles and pending ceremonies. */
export class Passkeys1733300000000 implements MigrationInterface {
  name = 'Passkeys1733300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE passkeys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL,
        credential_id varchar(1400) NOT NULL,
        public_key bytea NOT NULL,
        counter bigint NOT NULL DEFAULT 0,
        transports text[] NOT NULL DEFAULT '{}',
        name varchar(64) NOT NULL,
        aaguid uuid NOT NULL,
        device_type varchar(16) NOT NULL,
        backed_up boolean NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        CONSTRAINT passkeys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
      )`);
    // A credential belongs to one account: the unique index is what refuses a second registration.
    await q.query(`CREATE UNIQUE INDEX uq_passkeys_credential_id ON passkeys (credential_id)`);
    await q.query(`CREATE INDEX ix_passkeys_user_id ON passkeys (user_id)`);

    await q.query(`
      CREATE TABLE webauthn_user_handles (
        user_id uuid NOT NULL,
        handle bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT webauthn_user_handles_pkey PRIMARY KEY (user_id),
        CONSTRAINT webauthn_user_handles_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_webauthn_user_handles_handle ON webauthn_user_handles (handle)`);

    await q.query(`
      CREATE TABLE passkey_challenges (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind varchar(16) NOT NULL,
        user_id uuid,
        binding char(64),
        challenge varchar(64) NOT NULL,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ck_passkey_challenges_kind CHECK (kind IN ('registration', 'sign_in', 'second_factor')),
        CONSTRAINT passkey_challenges_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX ix_passkey_challenges_expires_at ON passkey_challenges (expires_at)`);
    await q.query(`CREATE INDEX ix_passkey_challenges_user_id ON passkey_challenges (user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE passkey_challenges`);
    await q.query(`DROP TABLE webauthn_user_handles`);
    await q.query(`DROP TABLE passkeys`);
  }
}
