import type { DataSource, EntityManager } from 'typeorm';
import type { Attempt, Throttle } from '../abuse/throttle';
import type { AuditRecord, AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import type { Sql } from '../db/sql';
import { Statement } from '../db/statement';
import { CoreErrors } from '../errors/core-errors';
import type { AuthPayload } from '../sessions/auth-payload.type';
import type { SessionTokens } from '../sessions/session-tokens';
import type { SessionsService } from '../sessions/sessions.service';
import type { Role } from '../users/role.enum';
import { USER_COLUMNS, type UserRow } from '../users/user.type';
import { rowsOf } from '../db/sql';
import type { ChallengeRead, Challenges } from './challenges';
import { TwoFactorMethod, type ClaimAccount, type CodeClaim, type SecondFactors } from './second-factor';
import { SecondFactorLimit } from './sign-in.config';
import { SignInErrors } from './sign-in.errors';
import { SignInEvent } from './sign-in.events';
import type { SignInMethod } from './sign-in-method';
import type { SignInResult } from './sign-in.types';

/** What the pipeline needs of an account: the User columns, whether an administrator locked it among them. */
export type SignInAccount = UserRow;

/** Select these to hand a row to `complete`. */
export const SIGN_IN_COLUMNS = USER_COLUMNS;

export interface CompleteOptions {
  /** The caller's transaction (register: the account and its first session commit together). */
  manager?: EntityManager;
  /** Audit the success as login.succeeded (default); register records its own event instead. */
  auditSuccess?: boolean;
  /** Further audit rows to commit with the session, in its statement (register: user.registered). */
  audit?: AuditRecord[];
}

type ChallengeOutcome = { kind: 'ok'; payload: AuthPayload } | { kind: 'invalid_token' } | { kind: 'wrong_answer' };

/**
 * The one place every sign-in ends. Each method (password, passkey, OAuth, email code) proves an
 * identity its own way and hands the account here; this decides, from the account and the
 * method's declared strength, whether a second factor is still owed (a challenge) or a session
 * opens, and refuses locked accounts. There is nothing to wire or forget: the pipeline is built
 * with its challenge store and factor list, and no method can open a session any other way.
 */
export class SignInService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sessions: SessionsService,
    private readonly tokens: SessionTokens,
    private readonly audit: AuditService,
    private readonly challenges: Challenges,
    private readonly factors: SecondFactors,
    private readonly throttle: Throttle,
    private readonly sql: Sql,
  ) {}

  async complete(account: SignInAccount, method: SignInMethod, request: RequestInfo, options: CompleteOptions = {}): Promise<SignInResult> {
    // After the credentials check only: a wrong password on a locked account still says INVALID_CREDENTIALS.
    if (account.locked_at) throw CoreErrors.ACCOUNT_LOCKED();
    if (account.two_factor_enabled && !method.provesSecondFactor) {
      return this.challenges.issue(account.id, request, (q) => this.factors.enrolment(account, q));
    }
    const audit = [
      ...(options.audit ?? []),
      ...(options.auditSuccess === false
        ? []
        : [{ type: SignInEvent.LOGIN_SUCCEEDED, userId: account.id, ip: request.ip, userAgent: request.userAgent, data: { method: method.name } }]),
    ];
    // One statement in the common case: the session, its first token and the audit row commit together.
    return this.tokens.payload(account, await this.sessions.openAudited(account.id, request, audit, options.manager));
  }

  /**
   * The second step of a sign-in that got a TwoFactorChallenge. `answer` checks the proof (a code, a
   * passkey assertion) inside the transaction that locked the challenge and returns the factor that
   * passed, or null. Counted on the account's and the address's second-factor limits before the
   * proof is looked at: with the counters in PostgreSQL, by the statement that reads the challenge.
   *
   * `claim`, optional, is the fast path: given the account row (read with the challenge, with the
   * factors' `accountColumns`) and what `prefetch` (an SQL expression the caller adds to that read:
   * a passkey step's ceremony and credential) found, the proof checked without writing, and how to
   * spend it (a passkey's ceremony and signature counter). The challenge lock,
   * the spending, the session, the audit rows and the attempt's success on the counters are then one
   * statement: the step costs two round trips, the read and that write (with Redis counters, plus
   * one script before the check and one after). Whenever that statement does not open the session (a
   * wrong or raced proof, a locked account, the session cap, a dead challenge) it has written
   * nothing, and `answer` gives the verdict the slow way.
   */
  async completeChallenge(
    token: string,
    request: RequestInfo,
    answer: (m: EntityManager, account: SignInAccount) => Promise<TwoFactorMethod | null>,
    claim?: (account: ClaimAccount, prefetched: unknown) => CodeClaim | null | Promise<CodeClaim | null>,
    prefetch?: (q: Statement) => string | null,
  ): Promise<AuthPayload> {
    // With the counters in PostgreSQL, the attempt is counted by the read itself (on the challenge's account).
    const read = await this.challenges.readLive(
      token,
      this.factors.accountColumns(),
      (q, userIdSql) =>
        this.throttle.beginExpression(q, [
          { policy: SecondFactorLimit.BY_ACCOUNT, keySql: userIdSql },
          { policy: SecondFactorLimit.BY_ADDRESS, key: request.ip },
        ]),
      prefetch,
    );
    if (!read) throw CoreErrors.INVALID_TOKEN();
    const userId = read.account.id;
    const checks = [
      { policy: SecondFactorLimit.BY_ACCOUNT, key: userId },
      { policy: SecondFactorLimit.BY_ADDRESS, key: request.ip },
    ];
    const counted = read.begun ? this.throttle.begun(checks, read.begun.waitMs) : await this.throttle.begin(checks);
    return this.throttle.attempt(counted, async (attempt) => {
      const fast = claim && this.mayAnswerFast(read) ? await claim(read.account, read.prefetched) : null;
      const payload = fast ? await this.answerFast(read, fast, request, attempt) : null;
      const outcome: ChallengeOutcome = payload
        ? { kind: 'ok', payload }
        : await this.dataSource.transaction((m) => this.answerChallenge(m, read.tokenHash, request, answer));
      // A dead challenge is no verdict on the account: the attempt is settled (refunded).
      if (outcome.kind === 'invalid_token') throw CoreErrors.INVALID_TOKEN();
      if (outcome.kind === 'wrong_answer') {
        const { locked } = await attempt.failed();
        if (locked) await this.recordLock(userId, null, request);
        throw SignInErrors.INVALID_TWO_FACTOR_CODE();
      }
      await attempt.succeeded(); // nothing left to do when the fast path's statement settled it
      return outcome.payload;
    });
  }

  /** Audits a second-factor lock (the failure that reached the account's limit). */
  async recordLock(userId: string, sessionId: string | null, request: RequestInfo): Promise<void> {
    await this.dataSource.transaction((m) =>
      this.audit.record(m, { type: SignInEvent.TWO_FACTOR_LOCKED, userId, sessionId, ip: request.ip, userAgent: request.userAgent }),
    );
  }

  /** What the read shows must be refused or counted goes the slow way, which gives the exact answer. */
  private mayAnswerFast(read: ChallengeRead): boolean {
    const a = read.account;
    return a.two_factor_enabled && !a.locked_at && !a.password_changed_since;
  }

  /**
   * The 2FA step's write in one statement: the challenge locked (`ch`), the account's session slot
   * (`slot`: its open lock, then its cap), the account re-checked and share-locked (`acct`: 2FA on,
   * not locked, password unchanged since the challenge), the proof spent, the challenge spent, the
   * session, its token and the audit rows. Locks in the order of the slow path (challenge, open
   * lock, account). Each step reads the one before, so it all happens or none of it; null: none.
   */
  private async answerFast(read: ChallengeRead, claim: CodeClaim, request: RequestInfo, attempt: Attempt): Promise<AuthPayload | null> {
    const userId = read.account.id;
    const q = new Statement();
    const ch = this.challenges.lockStep(q, read.tokenHash);
    const slot = this.sessions.opener.slotStep(q, userId, ch);
    const acct = q.with(
      'acct',
      `SELECT u.id, u.roles FROM users u, ch
        WHERE u.id = ch.user_id AND u.id = ${q.bind(userId)}::uuid AND u.two_factor_enabled AND u.locked_at IS NULL
          AND u.password_changed_at <= ch.created_at AND EXISTS (SELECT 1 FROM ${slot} WHERE ok)
        FOR SHARE OF u`,
    );
    const spent = claim.spend(q, userId, acct);
    const used = this.challenges.consumeStep(q, spent);
    const { opened, session } = this.sessions.opener.insertSteps(q, userId, request, used);
    const base = { userId, ip: request.ip, userAgent: request.userAgent };
    this.audit.insertStep(q, 'audited', opened, [
      { ...base, type: SignInEvent.LOGIN_SUCCEEDED, data: { secondFactor: claim.method.toLowerCase() } },
      ...(claim.method === TwoFactorMethod.RECOVERY_CODE ? [{ ...base, type: SignInEvent.RECOVERY_CODE_USED, data: { context: 'login' } }] : []),
    ]);
    // The attempt's success (counters reset and refunded) commits with the session, in the same round trip.
    const settled = attempt.succeedWithin(q, opened);
    // The roles the token claims are read under the account's share lock, as the session opens: a
    // demotion racing this step either committed first (and is seen) or waits and ends this session.
    const rows = await this.sql.built<{ opened: number; roles: Role[] | null }>(
      q.text(`SELECT count(*)::int AS opened, (SELECT roles FROM ${acct}) AS roles FROM ${opened}`),
      q.values,
      'two_factor_step',
    );
    if (rows[0]?.opened !== 1) return null;
    settled?.();
    return this.tokens.payload(read.account as unknown as SignInAccount, { ...session, roles: rows[0].roles ?? undefined });
  }

  private async answerChallenge(
    m: EntityManager,
    tokenHash: string,
    request: RequestInfo,
    answer: (m: EntityManager, account: SignInAccount) => Promise<TwoFactorMethod | null>,
  ): Promise<ChallengeOutcome> {
    const challenge = await this.challenges.lockLive(m, tokenHash);
    if (!challenge) return { kind: 'invalid_token' };
    // The account's open lock before its row: the one-statement path takes them in this order too.
    await this.sessions.opener.lockOpens(m, challenge.userId);
    const [account] = await rowsOf<SignInAccount & { password_changed_since: boolean }>(
      m,
      `SELECT ${SIGN_IN_COLUMNS}, password_changed_at > $2 AS password_changed_since FROM users WHERE id = $1`,
      [challenge.userId, challenge.createdAt],
    );
    // 2FA switched off or the password changed since the first step: that half sign-in is void.
    if (!account || !account.two_factor_enabled || account.password_changed_since) return { kind: 'invalid_token' };

    const base = { userId: account.id, ip: request.ip, userAgent: request.userAgent };
    const method = await answer(m, account);
    if (!method) {
      await this.challenges.countWrongAnswer(m, challenge);
      await this.audit.record(m, { ...base, type: SignInEvent.TWO_FACTOR_CHALLENGE_FAILED, data: { context: 'login', attempt: challenge.attempts + 1 } });
      return { kind: 'wrong_answer' };
    }
    // Thrown inside the transaction: the code or assertion is not spent on a locked account.
    if (account.locked_at) throw CoreErrors.ACCOUNT_LOCKED();
    await this.challenges.consume(m, challenge);
    await this.audit.record(
      m,
      { ...base, type: SignInEvent.LOGIN_SUCCEEDED, data: { secondFactor: method.toLowerCase() } },
      ...(method === TwoFactorMethod.RECOVERY_CODE ? [{ ...base, type: SignInEvent.RECOVERY_CODE_USED, data: { context: 'login' } }] : []),
    );
    return { kind: 'ok', payload: this.tokens.payload(account, await this.sessions.open(m, account.id, request)) };
  }
}
