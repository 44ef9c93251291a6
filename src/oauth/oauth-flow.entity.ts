import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity';

/**
 * A provider sign-in or link in progress: 10 minutes, single-use. The state is stored only as a
 * hash; Bouncer's own PKCE verifier encrypted; the client's code challenge binds the flow to the
 * client that started it.
 */
@Entity({ name: 'oauth_flows' })
@Index('uq_oauth_flows_state_hash', ['stateHash'], { unique: true })
@Index('ix_oauth_flows_expires_at', ['expiresAt'])
@Index('ix_oauth_flows_user_id', ['userId'])
export class OAuthFlowEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'state_hash', type: 'char', length: 64 })
  stateHash!: string;

  /** `login` or `link`. */
  @Column({ type: 'varchar', length: 8 })
  kind!: string;

  @Column({ type: 'varchar', length: 32 })
  provider!: string;

  @Column({ name: 'redirect_uri', type: 'varchar', length: 2048 })
  redirectUri!: string;

  @Column({ name: 'code_verifier_enc', type: 'text' })
  codeVerifierEnc!: string;

  /** OpenID Connect only. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  nonce!: string | null;

  @Column({ name: 'client_code_challenge', type: 'char', length: 43 })
  clientCodeChallenge!: string;

  /** The signed-in account a `link` flow belongs to. */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId!: string | null;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'oauth_flows_user_id_fkey' })
  user?: UserEntity;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
