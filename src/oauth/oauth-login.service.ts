import type { AccountCreatedHooks } from '../users/account-created';
import type { DataSource, EntityManager } from 'typeorm';
import type { Throttle } from '../abuse/throttle';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import { PasswordLimit } from '../password/password.config';
import { rowsOf } from '../db/sql';
import { SIGN_IN_COLUMNS, type SignInAccount, type SignInService } from '../sign-in/sign-in.service';
import { signInMethod, type SignInMethod } from '../sign-in/sign-in-method';
import type { SignInResult } from '../sign-in/sign-in.types';
import { OAuthErrors } from './oauth.errors';
import { OAuthEvent } from './oauth.events';
import type { CallbackInput, OAuthFlowService } from './oauth-flow.service';
import type { ProviderIdentity } from './providers/provider';

const PG_UNIQUE_VIOLATION = '23505';

type Resolution = { kind: 'signed_in'; result: SignInResult } | { kind: 'link_required'; userId: string; accountEmailVerified: boolean };

/**
 * Sign-in with a provider. The account is found by (provider, subject), never by email alone. A
 * new subject whose address matches an account is linked only when the provider says the address
 * is verified AND the account's address is verified (otherwise an attacker who registered the
 * victim's address, or a provider that does not check addresses, would merge into the victim's
 * account: pre-account takeover); else ACCOUNT_LINK_REQUIRED. A new subject with no such account
 * gets a new account without a password. Every path ends in the sign-in pipeline, which gives an
 * account with 2FA its challenge (a provider sign-in is one factor) and refuses locked accounts.
 */
export class OAuthLoginService {
  private readonly methods = new Map<string, SignInMethod>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly flows: OAuthFlowService,
    private readonly signIn: SignInService,
    private readonly audit: AuditService,
    private readonly throttle: Throttle,
    /** Work of other modules on a new account (the email module's verification mail for an unverified address). */
    private readonly accountCreated: AccountCreatedHooks,
  ) {}

  async complete(input: CallbackInput, request: RequestInfo): Promise<SignInResult> {
    const { provider, identity } = await this.flows.finish('login', input, null);
    const method = this.methodOf(provider.id);
    for (let attempt = 0; ; attempt++) {
      let outcome: Resolution;
      try {
        outcome = await this.dataSource.transaction((m) => this.resolve(m, provider.id, identity, method, request));
      } catch (error) {
        // A racing first sign-in of the same person made the account or the link first: look again.
        if (attempt === 0 && isUniqueViolation(error)) continue;
        throw error;
      }
      if (outcome.kind === 'signed_in') return outcome.result;
      await this.dataSource.transaction((m) =>
        this.audit.record(m, {
          type: OAuthEvent.LINK_REFUSED,
          userId: outcome.userId,
          ip: request.ip,
          userAgent: request.userAgent,
          data: { provider: provider.id, providerEmailVerified: identity.emailVerified, accountEmailVerified: outcome.accountEmailVerified },
        }),
      );
      throw OAuthErrors.ACCOUNT_LINK_REQUIRED();
    }
  }

  private async resolve(m: EntityManager, provider: string, identity: ProviderIdentity, method: SignInMethod, request: RequestInfo): Promise<Resolution> {
    const base = { ip: request.ip, userAgent: request.userAgent };
    // Found and touched in one statement, its row locked: a link removed meanwhile (by its owner, or
    // when the account's address was proven: src/oauth/unproven-links.ts) signs nobody in.
    const [link] = await rowsOf<{ id: string; user_id: string }>(
      m,
      'UPDATE linked_accounts SET last_used_at = now(), email = $3, email_verified = $4 WHERE provider = $1 AND subject = $2 RETURNING id, user_id',
      [provider, identity.subject, identity.email, identity.emailVerified],
    );
    if (link) {
      const [account] = await rowsOf<SignInAccount>(m, `SELECT ${SIGN_IN_COLUMNS} FROM users WHERE id = $1`, [link.user_id]);
      if (!account) throw OAuthErrors.OAUTH_FAILED(); // deleted meanwhile (its links go with it)
      await this.audit.record(m, { ...base, type: OAuthEvent.LOGIN, userId: account.id, data: { provider, linkedAccountId: link.id } });
      return { kind: 'signed_in', result: await this.signIn.complete(account, method, request, { manager: m }) };
    }
    // Without an address there is nothing to match or to create an account with.
    if (identity.email === null) throw OAuthErrors.OAUTH_FAILED({ message: 'The provider shared no usable email address.' });

    const [existing] = await rowsOf<SignInAccount>(m, `SELECT ${SIGN_IN_COLUMNS} FROM users WHERE email = $1`, [identity.email]);
    if (existing) {
      if (!identity.emailVerified || !existing.email_verified) return { kind: 'link_required', userId: existing.id, accountEmailVerified: existing.email_verified };
      const linkId = await this.insertLink(m, existing.id, provider, identity);
      await this.audit.record(
        m,
        { ...base, type: OAuthEvent.LINKED, userId: existing.id, data: { provider, linkedAccountId: linkId, automatic: true } },
        { ...base, type: OAuthEvent.LOGIN, userId: existing.id, data: { provider, linkedAccountId: linkId } },
      );
      return { kind: 'signed_in', result: await this.signIn.complete(existing, method, request, { manager: m }) };
    }

    await this.throttle.count([{ policy: PasswordLimit.REGISTRATIONS_BY_ADDRESS, key: request.ip }]);
    // No password: the password check treats a null hash as "no password" (any password is refused).
    const [created] = await rowsOf<SignInAccount>(m, `INSERT INTO users (email, password_hash, email_verified) VALUES ($1, NULL, $2) RETURNING ${SIGN_IN_COLUMNS}`, [
      identity.email,
      identity.emailVerified,
    ]);
    const linkId = await this.insertLink(m, created.id, provider, identity);
    await this.accountCreated.run(m, created, request);
    await this.audit.record(
      m,
      { ...base, type: OAuthEvent.ACCOUNT_CREATED, userId: created.id, data: { provider, linkedAccountId: linkId, emailVerified: identity.emailVerified } },
      { ...base, type: OAuthEvent.LOGIN, userId: created.id, data: { provider, linkedAccountId: linkId } },
    );
    return { kind: 'signed_in', result: await this.signIn.complete(created, method, request, { manager: m }) };
  }

  private async insertLink(m: EntityManager, userId: string, provider: string, identity: ProviderIdentity): Promise<string> {
    const [row] = await rowsOf<{ id: string }>(
      m,
      `INSERT INTO linked_accounts (user_id, provider, subject, email, email_verified, last_used_at) VALUES ($1, $2, $3, $4, $5, now()) RETURNING id`,
      [userId, provider, identity.subject, identity.email, identity.emailVerified],
    );
    return row.id;
  }

  /** One factor (something the provider checked): an account with 2FA still gets its challenge. */
  private methodOf(provider: string): SignInMethod {
    let method = this.methods.get(provider);
    if (!method) this.methods.set(provider, (method = signInMethod(`oauth:${provider}`)));
    return method;
  }
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } };
  return (e?.driverError?.code ?? e?.code) === PG_UNIQUE_VIOLATION;
}
