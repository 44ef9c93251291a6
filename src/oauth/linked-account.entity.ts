import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity';

/** A provider account (provider, subject) that signs in to one Bouncer account. No provider token is kept. */
@Entity({ name: 'linked_accounts' })
@Index('uq_linked_accounts_provider_subject', ['provider', 'subject'], { unique: true })
@Index('ix_linked_accounts_user_id', ['userId'])
export class LinkedAccountEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'linked_accounts_user_id_fkey' })
  user?: UserEntity;

  @Column({ type: 'varchar', length: 32 })
  provider!: string;

  /** The provider's stable id of the account (`sub`; GitHub's numeric user id), never its email. */
  @Column({ type: 'varchar', length: 255 })
  subject!: string;

  /** The address the provider reported at the last sign-in, for display. */
  @Column({ type: 'varchar', length: 254, nullable: true })
  email!: string | null;

  /** Whether the provider said that address was verified (a later email check can drop weak links). */
  @Column({ name: 'email_verified', type: 'boolean', default: false })
  emailVerified!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;
}
