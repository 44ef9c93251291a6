import type { EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import { rowsOf } from '../db/sql';
import { AdminEvent } from './admin.events';

/**
 * A key of an audit event's `data` that names or locates a person (an email, an address, a user
 * agent), or a value that looks like one: what pseudonymisation removes from the account's events.
 */
const PERSONAL_KEY = String.raw`email|address|agent|ips?$`;
const PERSONAL_VALUE = String.raw`@|"[0-9]{1,3}(\.[0-9]{1,3}){3}"|"[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}"`;

/**
 * The account's audit events stay (they answer "what happened to this account?"), keyed by its
 * random id alone: addresses and user agents go, and so does anything in `data` that names or
 * locates the person. Other accounts' events never hold this account's email (events name
 * accounts by id).
 */
const PSEUDONYMISE = `
  UPDATE audit_events
     SET ip_address = NULL, user_agent = NULL,
         data = (SELECT COALESCE(jsonb_object_agg(key, value), '{}'::jsonb)
                   FROM jsonb_each(data)
                  WHERE key !~* '${PERSONAL_KEY}' AND value::text !~ '${PERSONAL_VALUE}')
   WHERE user_id = $1`;

/** Who deleted the account, for the audit event. */
export type DeletedBy = { by: 'self' } | { by: string };

/**
 * Deletes an account inside the caller's transaction (which locked the administrators' rows and
 * the account's, and checked the last-administrator rule): the row goes and, by the foreign keys'
 * ON DELETE CASCADE, its sessions, refresh tokens, recovery codes, challenges and whatever later
 * modules keep under the account (passkeys, linked accounts). Returns the sessions that were live,
 * for this instance's revocation view.
 */
export class AccountDeletion {
  constructor(private readonly audit: AuditService) {}

  async delete(m: EntityManager, userId: string, by: DeletedBy, actorRequest: RequestInfo | null): Promise<string[]> {
    const live = await rowsOf<{ id: string }>(m, 'SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
    await m.query(PSEUDONYMISE, [userId]);
    await m.query('DELETE FROM users WHERE id = $1', [userId]);
    // Written after the pseudonymisation: an administrator's own address stays on their action,
    // a self-deletion keeps none.
    await this.audit.record(m, {
      type: AdminEvent.USER_DELETED,
      userId,
      ip: actorRequest?.ip ?? null,
      userAgent: actorRequest?.userAgent ?? null,
      data: { ...by },
    });
    return live.map((r) => r.id);
  }
}
