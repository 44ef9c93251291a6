import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { SessionEntity } from './session.entity';

/**
 * Every refresh token a session was ever given, as a SHA-256 hash. Retired ones stay so that a
 * reused token is recognised (and its session revoked) instead of being merely "unknown".
 */
@Entity({ name: 'refresh_tokens' })
@Index('uq_refresh_tokens_hash', ['tokenHash'], { unique: true })
// The cleanup's: a BRIN index (RefreshGraceOnOwnRow1764700031100), which TypeORM cannot declare.
// retired_at and successor_id have no index, so that retiring a token is a HOT update.
@Index('ix_refresh_tokens_created_at', { synchronize: false })
export class RefreshTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('ix_refresh_tokens_session_id')
  @Column({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

  @ManyToOne(() => SessionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'refresh_tokens_session_id_fkey' })
  session?: SessionEntity;

  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt!: Date | null;

  @Column({ name: 'successor_id', type: 'uuid', nullable: true })
  successorId!: string | null;

  /**
   * This token, encrypted (bound to its predecessor's hash), for racing refreshes (several tabs)
   * that present the predecessor within the grace window; cleared when this token is retired.
   */
  @Column({ name: 'grace_enc', type: 'text', nullable: true })
  graceEnc!: string | null;
}
