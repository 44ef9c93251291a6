import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity';

/**
 * A mail waiting to be sent, written in the transaction of the change that causes it (the
 * transactional outbox). A link token is kept only encrypted (`token_enc`) and erased once sent.
 */
@Entity({ name: 'mail_outbox' })
// The sender's claim: due, unsent rows in order; partial, so sent rows cost the claim nothing.
@Index('ix_mail_outbox_due', ['nextAttemptAt'], { where: 'sent_at IS NULL AND failed_at IS NULL' })
@Index('ix_mail_outbox_sent_at', ['sentAt'], { where: 'sent_at IS NOT NULL' })
@Index('ix_mail_outbox_failed_at', ['failedAt'], { where: 'failed_at IS NOT NULL' })
export class MailOutboxEntity {
  /** Chosen by the writer: it binds the encrypted token to its row (associated data). */
  @PrimaryColumn('uuid')
  id!: string;

  /** Which template (mail-kinds.ts). */
  @Column({ type: 'varchar', length: 64 })
  kind!: string;

  @Column({ type: 'varchar', length: 254 })
  recipient!: string;

  @Index('ix_mail_outbox_user_id')
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId!: string | null;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'mail_outbox_user_id_fkey' })
  user?: UserEntity;

  /** Template values that are not secret (a new address, the link's lifetime). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  data!: Record<string, string>;

  /** The link token, AES-256-GCM with ENCRYPTION_KEY; null for notices and once sent. */
  @Column({ name: 'token_enc', type: 'text', nullable: true })
  tokenEnc!: string | null;

  /** Attempts so far (a claim counts one). */
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  /** When the row may be claimed next: now for a new mail, a backoff after a failure, a lease while sending. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt!: Date;

  @Column({ name: 'last_error', type: 'varchar', length: 512, nullable: true })
  lastError!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt!: Date | null;

  /** Given up after retrying for MAIL_RETRY_HORIZON_SECONDS. */
  @Column({ name: 'failed_at', type: 'timestamptz', nullable: true })
  failedAt!: Date | null;
}
