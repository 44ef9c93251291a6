import { isUuid } from '../db/uuid';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import type { Viewer } from '../context/viewer';
import { badField, CoreErrors } from '../errors/core-errors';
import { rowsOf } from '../db/sql';
import type { SignInMethodCounter } from '../sign-in/sign-in-method-counters';
import { SignInErrors } from '../sign-in/sign-in.errors';
import { OAuthErrors } from './oauth.errors';
import { OAuthEvent } from './oauth.events';
import type { CallbackInput, OAuthAuthorizationResult, OAuthFlowService } from './oauth-flow.service';
import { LinkedAccount } from './oauth.types';

export const MAX_LINKED_ACCOUNTS = 20; // per account
/** The name this module's own counter has among the sign-in method counters. */
export const OAUTH_METHOD_COUNTER = 'oauth';
const LINK_COLUMNS = 'id, provider, email, created_at';

interface LinkRow {
  id: string;
  provider: string;
  email: string | null;
  created_at: Date;
}

function toLinkedAccount(row: LinkRow): LinkedAccount {
  return Object.assign(new LinkedAccount(), { id: row.id, provider: row.provider, email: row.email, createdAt: row.created_at });
}

/** How many links an account has (this module's contribution to the sign-in method counters). */
export function countLinks(m: EntityManager, userId: string): Promise<number> {
  return rowsOf<{ n: number }>(m, 'SELECT count(*)::int AS n FROM linked_accounts WHERE user_id = $1', [userId]).then((rows) => rows[0].n);
}

/**
 * A signed-in user's provider links: listing, linking explicitly (no email rule: the user proved
 * both sides, the account by its session and the provider account by signing in there), and
 * unlinking, refused when nothing would be left to sign in with: no password, no other link, and
 * nothing another module counts (passkeys, ...).
 */
export class LinkedAccountsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly flows: OAuthFlowService,
    private readonly audit: AuditService,
    /** Read at call time: the other modules' counters of ways in. */
    private readonly otherMethods: () => readonly SignInMethodCounter[],
  ) {}

  async list(viewer: Viewer): Promise<LinkedAccount[]> {
    const rows: LinkRow[] = await this.dataSource.query(`SELECT ${LINK_COLUMNS} FROM linked_accounts WHERE user_id = $1 ORDER BY created_at, id`, [viewer.userId]);
    return rows.map(toLinkedAccount);
  }

  start(viewer: Viewer, provider: string, redirectUri: string, codeChallenge: string, request: RequestInfo): Promise<OAuthAuthorizationResult> {
    return this.flows.start('link', provider, redirectUri, codeChallenge, request, viewer.userId);
  }

  async complete(viewer: Viewer, input: CallbackInput, request: RequestInfo): Promise<LinkedAccount> {
    const { provider, identity } = await this.flows.finish('link', input, viewer.userId);
    return this.dataSource.transaction(async (m) => {
      await this.holdLiveSession(m, viewer);
      const [inserted] = await rowsOf<LinkRow>(
        m,
        `INSERT INTO linked_accounts (user_id, provider, subject, email, email_verified)
         SELECT $1, $2, $3, $4, $5 WHERE (SELECT count(*) FROM linked_accounts WHERE user_id = $1) < $6
         ON CONFLICT (provider, subject) DO NOTHING RETURNING ${LINK_COLUMNS}`,
        [viewer.userId, provider.id, identity.subject, identity.email, identity.emailVerified, MAX_LINKED_ACCOUNTS],
      );
      if (!inserted) {
        const [existing] = await rowsOf<LinkRow & { user_id: string }>(m, `SELECT ${LINK_COLUMNS}, user_id FROM linked_accounts WHERE provider = $1 AND subject = $2`, [
          provider.id,
          identity.subject,
        ]);
        if (!existing) throw badField('provider', `At most ${MAX_LINKED_ACCOUNTS} linked accounts per account.`);
        if (existing.user_id !== viewer.userId) throw OAuthErrors.OAUTH_ACCOUNT_IN_USE();
        return toLinkedAccount(existing); // linked already: nothing changes
      }
      await this.audit.record(m, {
        type: OAuthEvent.LINKED,
        userId: viewer.userId,
        sessionId: viewer.sessionId,
        ip: request.ip,
        userAgent: request.userAgent,
        data: { provider: provider.id, linkedAccountId: inserted.id, automatic: false },
      });
      return toLinkedAccount(inserted);
    });
  }

  async unlink(viewer: Viewer, id: string, request: RequestInfo): Promise<boolean> {
    if (!isUuid(id)) throw badField('id', 'No such linked account.');
    return this.dataSource.transaction(async (m) => {
      // Locks the account's row: two unlinks racing for the last two links take turns, and the second sees one left.
      const [account] = await rowsOf<{ has_password: boolean }>(m, 'SELECT password_hash IS NOT NULL AS has_password FROM users WHERE id = $1 FOR NO KEY UPDATE', [viewer.userId]);
      const links = await rowsOf<{ id: string; provider: string }>(m, 'SELECT id, provider FROM linked_accounts WHERE user_id = $1', [viewer.userId]);
      const link = links.find((l) => l.id === id.toLowerCase());
      if (!account || !link) throw badField('id', 'No such linked account.');
      if (!account.has_password && links.length === 1 && (await this.countOthers(m, viewer.userId)) === 0) throw SignInErrors.LAST_SIGN_IN_METHOD();
      await m.query('DELETE FROM linked_accounts WHERE id = $1', [link.id]);
      await this.audit.record(m, {
        type: OAuthEvent.UNLINKED,
        userId: viewer.userId,
        sessionId: viewer.sessionId,
        ip: request.ip,
        userAgent: request.userAgent,
        data: { provider: link.provider, linkedAccountId: link.id },
      });
      return true;
    });
  }

  /**
   * Locks the account's row for the link's transaction, then (a later statement, which sees what was
   * committed while this one waited) refuses a session that ended meanwhile. A first proof of the
   * account's address holds that row while it drops unproven links and ends every session
   * (src/oauth/unproven-links.ts): a link added by one of those sessions at that moment goes too,
   * instead of outliving the proof.
   */
  private async holdLiveSession(m: EntityManager, viewer: Viewer): Promise<void> {
    await m.query('SELECT 1 FROM users WHERE id = $1 FOR SHARE', [viewer.userId]);
    const [live] = await rowsOf<{ ok: number }>(m, 'SELECT 1 AS ok FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL', [viewer.sessionId, viewer.userId]);
    if (!live) throw CoreErrors.UNAUTHENTICATED();
  }

  private async countOthers(m: EntityManager, userId: string): Promise<number> {
    let total = 0;
    for (const counter of this.otherMethods()) if (counter.name !== OAUTH_METHOD_COUNTER) total += await counter.count(m, userId);
    return total;
  }
}
