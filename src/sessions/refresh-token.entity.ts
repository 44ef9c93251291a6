import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { SessionEntity } from './session.entity';

/**
 * Every refresh token a session was ever given, as a SHA-256 hash. Retired ones stay so that a
 * reused token is recognised (and its session revoked) instead of being merely "unknown".
 */
@Entity({ name: 'refresh_tokens' })
@Index('uq_refresh_tokens_hash', ['tokenHash'], { unique: true })
@Index('ix_refresh_tokens_retired_at', ['retiredAt'], { where: 'retired_at IS NOT NULL' })
// A rotation finds the predecessor whose grace copy it drops by this (src/sessions/refresh-rotation.ts).
@Index('ix_refresh_tokens_successor_id', ['successorId'], { where: 'successor_id IS NOT NULL' })
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
   * The successor token, encrypted, kept only while racing refreshes (several tabs) within the
   * grace window may still need to be handed the same new token.
   */
  @Column({ name: 'successor_enc', type: 'text', nullable: true })
  successorEnc!: string | null;
}
