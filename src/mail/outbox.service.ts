import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Encryptor } from '../crypto/encryption';
import { COMMON_VARIABLES, isLinkMail, LINK_VARIABLES, variablesOf, type LinkMailKind } from './mail-kinds';
import type { SecurityNotice } from './security-notices';

/** NOTIFY channel that wakes every instance's sender when a mail is committed. */
export const MAIL_CHANNEL = 'bouncer_mail';

/** A mail to queue: a link mail carries its token (kept only encrypted), a notice never one. */
export type OutgoingMail =
  | { kind: LinkMailKind; to: string; userId: string | null; token: string; data?: Record<string, string> }
  | { kind: SecurityNotice; to: string; userId: string | null; token?: undefined; data?: Record<string, string> };

/** Associated data of a token's ciphertext: it decrypts only as the token of that very row. */
export function tokenAad(outboxId: string): string {
  return `mail_outbox:${outboxId}`;
}

/** Values the service fills in itself: a caller's data must not carry them (a token in `data` would be stored readable). */
const RESERVED = new Set<string>([...COMMON_VARIABLES, ...LINK_VARIABLES]);

/**
 * The writing side of the transactional outbox: `enqueue` runs in the caller's transaction, so the
 * mail exists if and only if the change that causes it commits, and the request never waits for
 * SMTP. NOTIFY is transactional too: senders wake at commit, not before.
 */
export class Outbox {
  constructor(private readonly encryptor: Encryptor) {}

  async enqueue(m: EntityManager, mail: OutgoingMail): Promise<void> {
    if (isLinkMail(mail.kind) !== (typeof mail.token === 'string')) throw new Error(`mail ${mail.kind}: a link mail needs a token, a notice must not have one`);
    const data = mail.data ?? {};
    const allowed = new Set(variablesOf(mail.kind));
    for (const [key, value] of Object.entries(data)) {
      if (RESERVED.has(key) || !allowed.has(key) || typeof value !== 'string') throw new Error(`mail ${mail.kind}: data.${key} is not one of its values`);
    }
    const id = randomUUID();
    const tokenEnc = mail.token === undefined ? null : this.encryptor.encrypt(mail.token, tokenAad(id));
    await m.query(
      `WITH queued AS (INSERT INTO mail_outbox (id, kind, recipient, user_id, data, token_enc) VALUES ($1, $2, $3, $4, $5, $6))
       SELECT pg_notify($7, '')`,
      [id, mail.kind, mail.to, mail.userId, data, tokenEnc, MAIL_CHANNEL],
    );
  }
}
