import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { isUuid } from '../db/uuid';
import { rowsOf, type Sql } from '../db/sql';
import type { Statement } from '../db/statement';
import { USER_COLUMNS, type UserRow } from '../users/user.type';
import type { Ceremony, CeremonyKind } from './ceremonies';
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

/** What a passwordless sign-in's first statement finds: the spent ceremony, the presented credential, its account. */
export interface TakenSignIn {
  ceremony: Ceremony | null;
  credential: StoredCredential | null;
  account: UserRow | null;
}

/** The columns of a ceremony row as both reads select them (`live`: not yet expired). */
const CEREMONY_COLUMNS = 'kind, user_id, binding, challenge, expires_at > now() AS live';

/**
 * The ceremony (a CTE `c` of CEREMONY_COLUMNS) with the presented credential (`credentialId`: its
 * placeholder) and its user handle: `found`, one jsonb that `foundOf` reads, and the FROM clause it
 * needs. One shape for both reads below.
 */
function withCredential(credentialId: string): { found: string; from: string } {
  return {
    found: `jsonb_build_object(
      'kind', c.kind, 'userId', c.user_id, 'binding', c.binding, 'challenge', c.challenge, 'live', c.live,
      'passkeyId', p.id, 'ownerId', p.user_id, 'credentialId', p.credential_id,
      'publicKey', encode(p.public_key, 'base64'), 'counter', p.counter::text, 'handle', encode(h.handle, 'base64'))`,
    from: `FROM c LEFT JOIN passkeys p ON p.credential_id = ${credentialId}::text LEFT JOIN webauthn_user_handles h ON h.user_id = p.user_id`,
  };
}

/**
 * A passwordless sign-in spends the ceremony whatever follows (the first request to present it
 * uses it up) and reads the credential and its account, in one autocommitted round trip.
 */
const TAKE_SIGN_IN = ((read) => `WITH c AS (DELETE FROM passkey_challenges WHERE id = $1 RETURNING ${CEREMONY_COLUMNS})
SELECT ${USER_COLUMNS.split(', ').map((column) => `u.${column}`).join(', ')}, ${read.found} AS found
  ${read.from} LEFT JOIN users u ON u.id = p.user_id`)(withCredential('$2'));

/** What `withCredential` found (TAKE_SIGN_IN's `found`, PasskeyStore.ceremonyExpression's value): the ceremony (null when unknown or used) and the credential (null when unknown). */
export function foundOf(value: unknown): Omit<TakenSignIn, 'account'> {
  const v = value as Record<string, string | boolean | null> | null;
  if (!v || typeof v !== 'object') return { ceremony: null, credential: null };
  const ceremony: Ceremony = { kind: v.kind as CeremonyKind, userId: v.userId as string | null, binding: v.binding as string | null, challenge: v.challenge as string, live: v.live === true };
  if (!v.passkeyId || !v.ownerId || !v.handle) return { ceremony, credential: null };
  const credential: StoredCredential = {
    id: v.passkeyId as string,
    user_id: v.ownerId as string,
    credential_id: v.credentialId as string,
    public_key: Buffer.from(v.publicKey as string, 'base64'),
    counter: v.counter as string,
    user_handle: Buffer.from(v.handle as string, 'base64').toString('base64url'),
  };
  return { ceremony, credential };
}

/** The SQL of the passkeys tables. */
export class PasskeyStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sql: Sql,
  ) {}

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

  /** A passwordless sign-in's first round trip (TAKE_SIGN_IN); nothing found without a well-formed ceremony id. */
  async takeSignIn(challengeId: unknown, credentialId: string | null): Promise<TakenSignIn> {
    if (!isUuid(challengeId)) return { ceremony: null, credential: null, account: null };
    const row = await this.sql.one<UserRow & { found: unknown }>('passkey_take_sign_in', TAKE_SIGN_IN, [challengeId, credentialId]);
    if (!row) return { ceremony: null, credential: null, account: null };
    const { found, ...account } = row;
    const taken = foundOf(found);
    return { ...taken, account: taken.credential ? account : null };
  }

  /**
   * The second step's ceremony and credential as one SQL expression (a jsonb, or null) in the 2FA
   * step's read of its challenge: no round trip of its own, and nothing spent. The step's one
   * statement spends the ceremony after locking the sign-in's challenge, so of twin requests the one
   * that wins the challenge also spends the ceremony and the others find the challenge consumed
   * (not a wrong answer that would count against it). Null: nothing to look up.
   */
  ceremonyExpression(q: Statement, challengeId: unknown, credentialId: string | null): string | null {
    if (!isUuid(challengeId)) return null;
    const id = q.bind(challengeId);
    const read = withCredential(q.bind(credentialId));
    return `(WITH c AS (SELECT ${CEREMONY_COLUMNS} FROM passkey_challenges WHERE id = ${id}::uuid) SELECT ${read.found} ${read.from})`;
  }

  /**
   * Compares and stores the signature counter in one statement (WebAuthn 7.2 step 21): it must grow,
   * unless the authenticator keeps no counter (0 stored and 0 presented, as synced passkeys do). Of
   * two assertions racing with one counter value, one updates the row and the other finds it moved.
   * Without `m`, autocommitted on its own.
   */
  async advanceCounter(m: EntityManager | null, passkeyId: string, counter: number, backedUp: boolean): Promise<boolean> {
    const text = `UPDATE passkeys SET counter = $2, backed_up = $3, last_used_at = now()
        WHERE id = $1 AND (counter < $2 OR ($2 = 0 AND counter = 0)) RETURNING id`;
    const values = [passkeyId, counter, backedUp];
    const rows = m ? await rowsOf<{ id: string }>(m, text, values) : await this.sql.many<{ id: string }>('passkey_counter', text, values);
    return rows.length > 0;
  }

  /**
   * The second step's spending, as steps of its one statement (src/db/statement.ts), once `gate`
   * yields a row: the ceremony deleted (still there: no twin spent it), then the counter compared
   * and stored as advanceCounter does. Returns the step that yields a row only when both happened.
   */
  spendSecondFactorSteps(q: Statement, userId: string, ceremonyId: string, verdict: { credential: StoredCredential; newCounter: number; backedUp: boolean }, gate: string): string {
    const ceremony = q.with(
      'passkey_ceremony',
      `DELETE FROM passkey_challenges WHERE id = ${q.bind(ceremonyId)}::uuid AND EXISTS (SELECT 1 FROM ${gate}) RETURNING id`,
    );
    const counter = q.bind(verdict.newCounter);
    return q.with(
      'passkey_spent',
      `UPDATE passkeys SET counter = ${counter}::bigint, backed_up = ${q.bind(verdict.backedUp)}::boolean, last_used_at = now()
        WHERE id = ${q.bind(verdict.credential.id)}::uuid AND user_id = ${q.bind(userId)}::uuid
          AND (counter < ${counter}::bigint OR (${counter}::bigint = 0 AND counter = 0)) AND EXISTS (SELECT 1 FROM ${ceremony})
       RETURNING id`,
    );
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
