import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { rowsOf } from '../db/sql';
import { PASSKEY_COLUMNS, type PasskeyRow } from './passkey.types';
import type { CredentialDescriptor, NewCredential } from './webauthn';

/** Random bytes of a WebAuthn user handle (the spec allows up to 64). */
const USER_HANDLE_BYTES = 32;

/** A stored credential as an assertion check needs it. */
export interface StoredCredential {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: Buffer;
  counter: string;
  /** base64url of the owner's user handle. */
  user_handle: string;
}

/** The SQL of the passkeys tables. */
export class PasskeyStore {
  constructor(private readonly dataSource: DataSource) {}

  list(userId: string): Promise<PasskeyRow[]> {
    return this.dataSource.query(`SELECT ${PASSKEY_COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id`, [userId]);
  }

  async descriptors(userId: string): Promise<CredentialDescriptor[]> {
    const rows: Array<{ credential_id: string; transports: string[] }> = await this.dataSource.query(
      'SELECT credential_id, transports FROM passkeys WHERE user_id = $1 ORDER BY created_at, id',
      [userId],
    );
    return rows.map((r) => ({ id: r.credential_id, transports: r.transports }));
  }

  async count(userId: string, m?: EntityManager): Promise<number> {
    const text = 'SELECT count(*)::int AS n FROM passkeys WHERE user_id = $1';
    const rows: Array<{ n: number }> = m ? await rowsOf(m, text, [userId]) : await this.dataSource.query(text, [userId]);
    return rows[0]?.n ?? 0;
  }

  /** The account's user handle, made on first use (two racing requests end with the same one). */
  async userHandle(userId: string): Promise<Buffer> {
    await this.dataSource.query('INSERT INTO webauthn_user_handles (user_id, handle) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING', [
      userId,
      randomBytes(USER_HANDLE_BYTES),
    ]);
    const rows: Array<{ handle: Buffer }> = await this.dataSource.query('SELECT handle FROM webauthn_user_handles WHERE user_id = $1', [userId]);
    return rows[0].handle;
  }

  async byCredentialId(m: EntityManager, credentialId: string): Promise<StoredCredential | null> {
    const [row] = await rowsOf<Omit<StoredCredential, 'user_handle'> & { handle: Buffer }>(
      m,
      `SELECT p.id, p.user_id, p.credential_id, p.public_key, p.counter, h.handle
         FROM passkeys p JOIN webauthn_user_handles h ON h.user_id = p.user_id
        WHERE p.credential_id = $1`,
      [credentialId],
    );
    if (!row) return null;
    const { handle, ...credential } = row;
    return { ...credential, user_handle: handle.toString('base64url') };
  }

  /**
   * Compares and stores the signature counter in one statement (WebAuthn 7.2 step 21): it must grow,
   * unless the authenticator keeps no counter (0 stored and 0 presented, as synced passkeys do). Of
   * two assertions racing with one counter value, one updates the row and the other finds it moved.
   */
  async advanceCounter(m: EntityManager, passkeyId: string, counter: number, backedUp: boolean): Promise<boolean> {
    const rows = await rowsOf<{ id: string }>(
      m,
      `UPDATE passkeys SET counter = $2, backed_up = $3, last_used_at = now()
        WHERE id = $1 AND (counter < $2 OR ($2 = 0 AND counter = 0)) RETURNING id`,
      [passkeyId, counter, backedUp],
    );
    return rows.length > 0;
  }

  /** Inserts a new credential; null when that credential ID is registered already (to any account). */
  async insert(m: EntityManager, userId: string, credential: NewCredential, name: string): Promise<PasskeyRow | null> {
    const [row] = await rowsOf<PasskeyRow>(
      m,
      `INSERT INTO passkeys (user_id, credential_id, public_key, counter, transports, name, aaguid, device_type, backed_up)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (credential_id) DO NOTHING RETURNING ${PASSKEY_COLUMNS}`,
      [userId, credential.credentialId, credential.publicKey, credential.counter, credential.transports, name, credential.aaguid, credential.deviceType, credential.backedUp],
    );
    return row ?? null;
  }

  async rename(userId: string, passkeyId: string, name: string): Promise<PasskeyRow | null> {
    const [rows] = (await this.dataSource.query(`UPDATE passkeys SET name = $3 WHERE id = $1 AND user_id = $2 RETURNING ${PASSKEY_COLUMNS}`, [
      passkeyId,
      userId,
      name,
    ])) as [PasskeyRow[], number];
    return rows[0] ?? null;
  }

  async remove(m: EntityManager, userId: string, passkeyId: string): Promise<{ id: string; name: string } | null> {
    const [row] = await rowsOf<{ id: string; name: string }>(m, 'DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING id, name', [passkeyId, userId]);
    return row ?? null;
  }
}
