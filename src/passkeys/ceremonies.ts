import { isUuid } from '../db/uuid';
import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { rowsOf } from '../db/sql';
import type { RejectionReason } from './passkeys.events';

/** What a ceremony is for: it is accepted for that and nothing else. */
export type CeremonyKind = 'registration' | 'sign_in' | 'second_factor';

/** A ceremony lives 5 minutes (CONTRACT.md, Passkeys). */
export const CEREMONY_TTL_SECONDS = 5 * 60;
/** Random bytes of a WebAuthn challenge (the contract asks for at least 128 bits). */
const CHALLENGE_BYTES = 32;

export interface IssuedCeremony {
  id: string;
  /** The raw challenge, for the options generator (which base64url-encodes it). */
  challenge: Buffer;
}

/** A ceremony taken for verification. */
export interface Ceremony {
  kind: CeremonyKind;
  userId: string | null;
  binding: string | null;
  /** base64url, as the client writes it in clientDataJSON. */
  challenge: string;
  live: boolean;
}

/**
 * Server-side WebAuthn challenges: random, 5 minutes, bound to a kind and a user, single-use. A
 * ceremony is deleted by the first request that presents it, whatever that request's outcome,
 * so of several requests racing with one ceremony exactly one gets to verify its assertion.
 */
export class Ceremonies {
  constructor(private readonly dataSource: DataSource) {}

  async issue(kind: CeremonyKind, userId: string | null, binding: string | null = null): Promise<IssuedCeremony> {
    const challenge = randomBytes(CHALLENGE_BYTES);
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `INSERT INTO passkey_challenges (kind, user_id, binding, challenge, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING id`,
      [kind, userId, binding, challenge.toString('base64url'), CEREMONY_TTL_SECONDS],
    );
    return { id: rows[0].id, challenge };
  }

  /** Deletes the ceremony and returns it (expired ones too, marked not live), or null when unknown or already used. */
  async take(m: EntityManager, id: unknown): Promise<Ceremony | null> {
    if (!isUuid(id)) return null;
    const [row] = await rowsOf<{ kind: CeremonyKind; user_id: string | null; binding: string | null; challenge: string; live: boolean }>(
      m,
      'DELETE FROM passkey_challenges WHERE id = $1 RETURNING kind, user_id, binding, challenge, expires_at > now() AS live',
      [id],
    );
    return row ? { kind: row.kind, userId: row.user_id, binding: row.binding, challenge: row.challenge, live: row.live } : null;
  }
}

/**
 * What is wrong with a taken ceremony for this use, or null: unknown or used, made for another kind
 * of ceremony, another account or another sign-in (binding), or expired.
 */
export function ceremonyProblem(ceremony: Ceremony | null, kind: CeremonyKind, userId: string | null, binding: string | null = null): RejectionReason | null {
  if (!ceremony) return 'unknown_challenge';
  if (ceremony.kind !== kind || ceremony.userId !== userId || ceremony.binding !== binding) return 'challenge_mismatch';
  if (!ceremony.live) return 'challenge_expired';
  return null;
}
