import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity';

/** A registered WebAuthn credential: its public key and signature counter. Holds no secret. */
@Entity({ name: 'passkeys' })
@Index('uq_passkeys_credential_id', ['credentialId'], { unique: true })
@Index('ix_passkeys_user_id', ['userId'])
export class PasskeyEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'passkeys_user_id_fkey' })
  user?: UserEntity;

  /** base64url of the credential ID (at most 1,023 bytes by the spec). */
  @Column({ name: 'credential_id', type: 'varchar', length: 1400 })
  credentialId!: string;

  /** COSE_Key of the credential, as the authenticator attested it. */
  @Column({ name: 'public_key', type: 'bytea' })
  publicKey!: Buffer;

  /** Last signature counter seen (a uint32); compared and stored in one statement. */
  @Column({ type: 'bigint', default: 0 })
  counter!: string;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  transports!: string[];

  @Column({ type: 'varchar', length: 64 })
  name!: string;

  /** Model of the authenticator (all zeros when it does not say). */
  @Column({ type: 'uuid' })
  aaguid!: string;

  /** singleDevice or multiDevice (a synced passkey). */
  @Column({ name: 'device_type', type: 'varchar', length: 16 })
  deviceType!: string;

  @Column({ name: 'backed_up', type: 'boolean' })
  backedUp!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;
}
