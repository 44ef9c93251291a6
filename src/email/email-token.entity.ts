import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity';

/**
 * A token sent by mail (verification, password reset, email change): 256 random bits, stored only
 * as SHA-256, single-use, short-lived; a newer one of the same kind retires the older ones.
 */
@Entity({ name: 'email_tokens' })
@Index('uq_email_tokens_hash', ['tokenHash'], { unique: true })
// Retiring an account's tokens, pendingEmail, and the cascade when an account is deleted.
@Index('ix_email_tokens_user_id_kind', ['userId', 'kind'])
@Index('ix_email_tokens_expires_at', ['expiresAt'])
export class EmailTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'email_tokens_user_id_fkey' })
  user?: UserEntity;

  /** verify_email, reset_password or confirm_email_change (the mail it came in). */
  @Column({ type: 'varchar', length: 32 })
  kind!: string;

  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash!: string;

  /** The address the link was mailed to (for an email change: the new address). */
  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;

  /** A newer token of the kind, or a change that voids it (reset, new address), ended it unused. */
  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
