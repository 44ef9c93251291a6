import type { DataSource } from 'typeorm';
import type { Throttle } from '../abuse/throttle';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import type { Sql } from '../db/sql';
import type { SecurityNotices } from '../mail/security-notices';
import { badUserInput } from '../errors/core-errors';
import type { FieldError } from '../errors/app-error';
import type { RevocationWatcher } from '../sessions/revocation-watcher';
import { SessionRevokedReason, type SessionsService } from '../sessions/sessions.service';
import type { AuthPayload } from '../sessions/auth-payload.type';
import { SIGN_IN_COLUMNS, type SignInAccount, type SignInService } from '../sign-in/sign-in.service';
import { signInMethod } from '../sign-in/sign-in-method';
import type { SignInResult } from '../sign-in/sign-in.types';
import type { AccountCreatedHooks } from '../users/account-created';
import { UserEntity } from '../users/user.entity';
import { checkEmail, checkUsername, normalizeEmail } from './credentials.validation';
import { PASSWORD_ACCOUNT_COLUMNS, MAX_PASSWORD_INPUT_CHARS, type PasswordAccount, type PasswordCheck } from './password-check';
import { PasswordLimit } from './password.config';
import { emailTaken, PasswordErrors, usernameTaken } from './password.errors';
import { PasswordEvent } from './password.events';
import type { PasswordHasher } from './password-hasher';
import type { LoginInput, RegisterInput } from './password.inputs';
import { checkPassword } from './password-policy';

/** Something you know: one factor, so an account with 2FA still gets its challenge. */
export const PASSWORD_METHOD = signInMethod('password');

const MAX_IDENTIFIER_CHARS = 254;

/** What an account change owes other modules, in its own transaction. */
export interface PasswordSideEffects {
  /** Run when register creates an account (the verification mail). */
  accountCreated: AccountCreatedHooks;
  /** The owner hears of a password change (a notice mail). */
  notices: SecurityNotices;
}
const PG_UNIQUE_VIOLATION = '23505';

/** Registration, password sign-in, the password re-check of a signed-in user, and password change. */
export class PasswordService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sql: Sql,
    private readonly hasher: PasswordHasher,
    private readonly check: PasswordCheck,
    private readonly signIn: SignInService,
    private readonly sessions: SessionsService,
    private readonly revocations: RevocationWatcher,
    private readonly audit: AuditService,
    private readonly throttle: Throttle,
    private readonly effects: PasswordSideEffects,
  ) {}

  async register(input: RegisterInput, request: RequestInfo): Promise<AuthPayload> {
    const email = normalizeEmail(input.email);
    const username = input.username?.normalize('NFKC').trim() || null;
    const errors: FieldError[] = [];
    const emailError = checkEmail('email', email);
    if (emailError) errors.push(emailError);
    if (username !== null) {
      const usernameError = checkUsername('username', username);
      if (usernameError) errors.push(usernameError);
    }
    const passwordError = checkPassword('password', input.password, { email, username });
    if (passwordError) errors.push(passwordError);
    if (errors.length) throw badUserInput(errors);

    await this.throttle.count([{ policy: PasswordLimit.REGISTRATIONS_BY_ADDRESS, key: request.ip }]);
    const passwordHash = await this.hasher.hash(input.password, request.ip);
    return this.dataSource.transaction(async (m) => {
      let account: SignInAccount;
      try {
        const inserted: SignInAccount[] = await m.query(
          `INSERT INTO users (email, username, password_hash) VALUES ($1, $2, $3) RETURNING ${SIGN_IN_COLUMNS}`,
          [email, username, passwordHash],
        );
        account = inserted[0];
      } catch (error) {
        throw uniqueViolation(error) ?? error;
      }
      // A new account has no second factor: the pipeline opens its first session in this transaction,
      // with the registration's audit row in the session's statement.
      const registered = { type: PasswordEvent.REGISTERED, userId: account.id, ip: request.ip, userAgent: request.userAgent };
      const payload = (await this.signIn.complete(account, PASSWORD_METHOD, request, { manager: m, auditSuccess: false, audit: [registered] })) as AuthPayload;
      // After the registration's own audit row, in the same transaction (the verification mail).
      await this.effects.accountCreated.run(m, account, request);
      return payload;
    });
  }

  async login(input: LoginInput, request: RequestInfo): Promise<SignInResult> {
    const identifier = typeof input.identifier === 'string' ? input.identifier.normalize('NFKC').trim().toLowerCase() : '';
    // Refused before any hashing: no bcrypt work for input that cannot be a password.
    if (!identifier || identifier.length > MAX_IDENTIFIER_CHARS || !input.password || input.password.length > MAX_PASSWORD_INPUT_CHARS) {
      throw PasswordErrors.INVALID_CREDENTIALS();
    }
    const found = await this.findForLogin(identifier);
    // Successes count on a limit of their own (session floods), settled with the attempt in one round trip.
    const successes = found ? [{ policy: PasswordLimit.SUCCESSES_BY_ACCOUNT, key: found.id }] : [];
    const account = await this.check.check(identifier, found, input.password, request, true, successes);
    if (account.password_hash && this.hasher.needsRehash(account.password_hash)) await this.rehash(account.id, input.password);
    return this.signIn.complete(account, PASSWORD_METHOD, request);
  }

  /** Re-checks the password of a signed-in user (changePassword, 2FA changes), throttled like a login on the account's email. */
  async verifyPassword(userId: string, password: string, request: RequestInfo): Promise<PasswordAccount> {
    const account = await this.findById(userId);
    return this.check.check(account?.email ?? userId, account, password, { ip: null, userAgent: request.userAgent }, false);
  }

  /** Changes the password and signs out every other session of the user. */
  async changePassword(userId: string, sessionId: string, currentPassword: string, newPassword: string, request: RequestInfo): Promise<void> {
    const account = await this.findById(userId);
    if (!account) throw PasswordErrors.INVALID_CREDENTIALS();
    // The policy first: a refused new password costs no bcrypt work.
    const policyError = checkPassword('newPassword', newPassword, { email: account.email, username: account.username });
    if (policyError) throw badUserInput([policyError]);
    await this.check.check(account.email, account, currentPassword, { ip: null, userAgent: request.userAgent }, false);
    const passwordHash = await this.hasher.hash(newPassword, request.ip);
    const revoked = await this.dataSource.transaction(async (m) => {
      await m.update(UserEntity, { id: userId }, { passwordHash, passwordChangedAt: () => 'now()' });
      await this.audit.record(m, { type: PasswordEvent.PASSWORD_CHANGED, userId, sessionId, ip: request.ip, userAgent: request.userAgent });
      await this.effects.notices.notify(m, userId, 'password_changed');
      return this.sessions.revokeAllOfUser(m, userId, SessionRevokedReason.PASSWORD_CHANGED, request, sessionId);
    });
    this.revocations.markRevoked(...revoked);
  }

  private findById(userId: string): Promise<PasswordAccount | undefined> {
    return this.sql.one<PasswordAccount>('login_by_id', `SELECT ${PASSWORD_ACCOUNT_COLUMNS} FROM users WHERE id = $1`, [userId]);
  }

  private findForLogin(identifier: string): Promise<PasswordAccount | undefined> {
    // An email always holds "@", a username never does: one indexed lookup either way.
    return identifier.includes('@')
      ? this.sql.one<PasswordAccount>('login_by_email', `SELECT ${PASSWORD_ACCOUNT_COLUMNS} FROM users WHERE email = $1`, [identifier])
      : this.sql.one<PasswordAccount>('login_by_username', `SELECT ${PASSWORD_ACCOUNT_COLUMNS} FROM users WHERE lower(username) = $1`, [identifier]);
  }

  private async rehash(userId: string, password: string): Promise<void> {
    const passwordHash = await this.hasher.hash(password);
    await this.dataSource.getRepository(UserEntity).update({ id: userId }, { passwordHash });
  }
}

function uniqueViolation(error: unknown): Error | null {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e.driverError?.code ?? e.code;
  const constraint = e.driverError?.constraint ?? e.constraint;
  if (code !== PG_UNIQUE_VIOLATION) return null;
  return constraint === 'uq_users_username' ? usernameTaken() : emailTaken();
}
