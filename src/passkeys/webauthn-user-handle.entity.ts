import { Column, CreateDateColumn, Entity, Index, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity';

/**
 * The account's WebAuthn user handle: random bytes, never the email or the account id (both would
 * leak through the authenticator), the same for every passkey of the account so that an
 * authenticator keeps one credential per account and site.
 */
@Entity({ name: 'webauthn_user_handles' })
@Index('uq_webauthn_user_handles_handle', ['handle'], { unique: true })
export class WebAuthnUserHandleEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid', primaryKeyConstraintName: 'webauthn_user_handles_pkey' })
  userId!: string;

  @OneToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'webauthn_user_handles_user_id_fkey' })
  user?: UserEntity;

  @Column({ type: 'bytea' })
  handle!: Buffer;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
