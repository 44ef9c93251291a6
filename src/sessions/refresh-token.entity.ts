import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Every refresh token a session was ever given, as a SHA-256 hash. Retired ones stay so that a
 * reused token is recognised (and its session revoked) instead of being merely "unknown".
 */
@Entity({ name: 'refresh_tokens' })
export class RefreshTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

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
