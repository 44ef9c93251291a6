import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Role } from './role.enum';

/** A stored account. Holds secrets: never returned as is; the GraphQL `User` type maps from it. */
@Entity({ name: 'users' })
@Check('ck_users_email_lower', 'email = lower(email)')
@Index('uq_users_email', ['email'], { unique: true })
// Keyset pagination of the admin list runs on (created_at, id).
@Index('ix_users_created_at_id', ['createdAt', 'id'])
// Unique on lower(username) where set: an expression index the migration owns.
@Index('uq_users_username', { synchronize: false })
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Trimmed and lower-cased on the way in; unique. */
  @Column({ type: 'varchar', length: 254 })
  email!: string;

  /** As the user typed it; unique case-insensitively (index on lower(username)). */
  @Column({ type: 'varchar', length: 32, nullable: true })
  username!: string | null;

  /** Null for an account made by a provider sign-in: no password verifies until one is set (reset). */
  @Column({ name: 'password_hash', type: 'varchar', length: 100, nullable: true })
  passwordHash!: string | null;

  @Column({ name: 'email_verified', type: 'boolean', default: false })
  emailVerified!: boolean;

  @Column({ type: 'text', array: true, default: () => "'{USER}'" })
  roles!: Role[];

  @Column({ name: 'two_factor_enabled', type: 'boolean', default: false })
  twoFactorEnabled!: boolean;

  /** Confirmed TOTP secret, AES-256-GCM encrypted with a key id (see crypto/encryption). */
  @Column({ name: 'totp_secret_enc', type: 'text', nullable: true })
  totpSecretEnc!: string | null;

  /** Secret of an enrolment that is not confirmed yet. */
  @Column({ name: 'totp_pending_secret_enc', type: 'text', nullable: true })
  totpPendingSecretEnc!: string | null;

  /** Last TOTP time step accepted: a step is accepted at most once. */
  @Column({ name: 'totp_last_step', type: 'bigint', nullable: true })
  totpLastStep!: string | null;

  /** Set by an administrator: sign-ins are refused (ACCOUNT_LOCKED) after the credentials check. */
  @Column({ name: 'locked_at', type: 'timestamptz', nullable: true })
  lockedAt!: Date | null;

  /** Wrong passwords in a row, whatever identifier was typed; a success or a reset clears it. */
  @Column({ name: 'failed_logins', type: 'integer', default: 0 })
  failedLogins!: number;

  @Column({ name: 'roles_changed_at', type: 'timestamptz', default: () => 'now()' })
  rolesChangedAt!: Date;

  @Column({ name: 'password_changed_at', type: 'timestamptz', default: () => 'now()' })
  passwordChangedAt!: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
