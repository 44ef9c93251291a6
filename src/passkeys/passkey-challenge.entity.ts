import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity';

/**
 * One WebAuthn ceremony: the challenge the authenticator must sign, what it is for (kind) and whom
 * (user; for a second factor, also the sign-in it answers). Deleted by the request that uses it.
 */
@Entity({ name: 'passkey_challenges' })
@Check('ck_passkey_challenges_kind', `kind IN ('registration', 'sign_in', 'second_factor')`)
@Index('ix_passkey_challenges_expires_at', ['expiresAt'])
@Index('ix_passkey_challenges_user_id', ['userId'])
export class PasskeyChallengeEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: string;

  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId!: string | null;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'passkey_challenges_user_id_fkey' })
  user?: UserEntity;

  /** Second factor: SHA-256 of the TwoFactorChallenge token the ceremony answers. */
  @Column({ type: 'char', length: 64, nullable: true })
  binding!: string | null;

  /** base64url of 32 random bytes. */
  @Column({ type: 'varchar', length: 64 })
  challenge!: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
