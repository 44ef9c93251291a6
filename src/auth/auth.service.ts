import type { DataSource, EntityManager } from 'typeorm';
import type { Throttle } from '../abuse/throttle';
import { AuditEvent, type AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import type { Sql } from '../db/sql';
import {
  BadUserInputError,
  EmailTakenError,
  InvalidCredentialsError,
  UsernameTakenError,
  type FieldError,
} from '../errors/app-errors';
import { SessionRevokedReason, type SessionsService } from '../sessions/sessions.service';
import type { RevocationWatcher } from '../sessions/revocation-watcher';
import type { AccessTokenService } from '../tokens/access-token.service';
import { UserEntity } from '../users/user.entity';
import { toUser, USER_COLUMNS, type UserRow } from '../users/user.type';
import { AuthPayload, TwoFactorChallenge } from './auth.types';
import type { LoginInput, RegisterInput } from './auth.inputs';
import { checkEmail, checkUsername, normalizeEmail } from './credentials.validation';
import type { PasswordHasher } from './password-hasher';
import { checkPassword, PASSWORD_MAX_CHARS } from './password-policy';

/** Starts the second-factor step of a login (two-factor feature). */
export interface ChallengeIssuer {
  issue(userId: string, request: RequestInfo): Promise<TwoFactorChallenge>;
}

/** Bytes of password input looked at before refusing without any hashing (4 bytes a character, at most). */
const MAX_PASSWORD_INPUT_CHARS = PASSWORD_MAX_CHARS * 4;
const MAX_IDENTIFIER_CHARS = 254;
const PG_UNIQUE_VIOLATION = '23505';

type LoginRow = UserRow & { password_hash: string };

export class AuthService {
  private challenges: ChallengeIssuer | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly sql: Sql,
    private readonly hasher: PasswordHasher,
    private readonly accessTokens: AccessTokenService,
    private readonly sessions: SessionsService,
    private readonly revocations: RevocationWatcher,
    private readonly audit: AuditService,
    private readonly throttle: Throttle,
  ) {}

  useChallengeIssuer(issuer: ChallengeIssuer): void {
    this.challenges = issuer;
  }

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
    if (errors.length) throw new BadUserInputError(errors);

    await this.throttle.beforeRegister(request.ip);
    const passwordHash = await this.hasher.hash(input.password);
    return this.dataSource.transaction(async (m) => {
      let user: UserRow;
      try {
        const inserted: UserRow[] = await m.query(
          `INSERT INTO users (email, username, password_hash) VALUES ($1, $2, $3) RETURNING ${USER_COLUMNS}`,
          [email, username, passwordHash],
        );
        user = inserted[0];
      } catch (error) {
        throw this.uniqueViolation(error) ?? error;
      }
      await this.audit.record(m, { type: AuditEvent.REGISTERED, userId: user.id, ip: request.ip, userAgent: request.userAgent });
      return this.openSession(m, user, request);
    });
  }

  async login(input: LoginInput, request: RequestInfo): Promise<AuthPayload | TwoFactorChallenge> {
    const identifier = input.identifier.normalize('NFKC').trim().toLowerCase();
    // Refused before any hashing: no bcrypt work for input that cannot be a password.
    if (!identifier || identifier.length > MAX_IDENTIFIER_CHARS || !input.password || input.password.length > MAX_PASSWORD_INPUT_CHARS) {
      throw new InvalidCredentialsError();
    }
    await this.throttle.beforeLogin(identifier, request.ip);
    const user = await this.findForLogin(identifier);
    const valid = user ? await this.hasher.verify(input.password, user.password_hash) : (await this.hasher.burn(input.password), false);

    if (!user || !valid) {
      const { locked } = await this.throttle.loginFailed(identifier, request.ip);
      // Written for unknown identifiers too, so both paths do the same work.
      // Nothing else changes on a failure: one multi-row INSERT, no transaction around it.
      await this.audit.record(
        this.dataSource.manager,
        { type: AuditEvent.LOGIN_FAILED, userId: user?.id ?? null, ip: request.ip, userAgent: request.userAgent, data: { reason: user ? 'password' : 'unknown_identifier' } },
        ...(locked ? [{ type: AuditEvent.ACCOUNT_LOCKED, userId: user?.id ?? null, ip: request.ip, userAgent: request.userAgent }] : []),
      );
      throw new InvalidCredentialsError();
    }

    await this.throttle.loginSucceeded(identifier, request.ip);
    if (this.hasher.needsRehash(user.password_hash)) await this.rehash(user.id, input.password);
    if (user.two_factor_enabled && this.challenges) return this.challenges.issue(user.id, request);
    return this.dataSource.transaction(async (m) => {
      await this.audit.record(m, { type: AuditEvent.LOGIN_SUCCEEDED, userId: user.id, ip: request.ip, userAgent: request.userAgent });
      return this.openSession(m, user, request);
    });
  }

  /** Opens a session for a user whose credentials (and second factor) passed: the end of every login. */
  async openSession(m: EntityManager, user: UserRow, request: RequestInfo): Promise<AuthPayload> {
    const session = await this.sessions.open(m, user.id, request);
    return this.payload(user, session.sessionId, session.refreshToken, session.expiresAt);
  }

  async refresh(refreshToken: string, request: RequestInfo): Promise<AuthPayload> {
    const session = await this.sessions.refresh(refreshToken, request);
    return this.payload(session.user, session.sessionId, session.refreshToken, session.expiresAt);
  }

  /** Re-checks the password of a signed-in user (changePassword, 2FA changes). */
  async verifyPassword(userId: string, password: string): Promise<void> {
    await this.checkPasswordOf(userId, await this.findWithPassword(userId), password);
  }

  private findWithPassword(userId: string): Promise<LoginRow | undefined> {
    return this.sql.one<LoginRow>('login_by_id', `SELECT ${USER_COLUMNS}, password_hash FROM users WHERE id = $1`, [userId]);
  }

  /** The password re-check, throttled like a login on the account's email. */
  private async checkPasswordOf(userId: string, row: LoginRow | undefined, password: string): Promise<void> {
    if (!password || password.length > MAX_PASSWORD_INPUT_CHARS) throw new InvalidCredentialsError();
    const key = row?.email ?? userId;
    await this.throttle.beforeLogin(key, null);
    if (!row || !(await this.hasher.verify(password, row.password_hash))) {
      await this.throttle.loginFailed(key, null);
      throw new InvalidCredentialsError();
    }
    // beforeLogin counted this check as a failure until proven otherwise.
    await this.throttle.loginSucceeded(key, null);
  }

  /** Changes the password and signs out every other session of the user. */
  async changePassword(userId: string, sessionId: string, currentPassword: string, newPassword: string, request: RequestInfo): Promise<void> {
    const user = await this.findWithPassword(userId);
    if (!user) throw new InvalidCredentialsError();
    // The policy first: a refused new password costs no bcrypt work.
    const policyError = checkPassword('newPassword', newPassword, { email: user.email, username: user.username });
    if (policyError) throw new BadUserInputError([policyError]);
    await this.checkPasswordOf(userId, user, currentPassword);
    const passwordHash = await this.hasher.hash(newPassword);
    const revoked = await this.dataSource.transaction(async (m) => {
      await m.update(UserEntity, { id: userId }, { passwordHash, passwordChangedAt: () => 'now()' });
      await this.audit.record(m, { type: AuditEvent.PASSWORD_CHANGED, userId, sessionId, ip: request.ip, userAgent: request.userAgent });
      return this.sessions.revokeAllOfUser(m, userId, SessionRevokedReason.PASSWORD_CHANGED, request, sessionId);
    });
    this.revocations.markRevoked(...revoked);
  }

  private payload(user: UserRow, sessionId: string, refreshToken: string, sessionEndsAt: Date): AuthPayload {
    const access = this.accessTokens.issue(user.id, sessionId, user.roles, sessionEndsAt);
    return Object.assign(new AuthPayload(), {
      accessToken: access.token,
      tokenType: 'Bearer',
      expiresIn: access.expiresIn,
      refreshToken,
      user: toUser(user),
    });
  }

  private async findForLogin(identifier: string): Promise<LoginRow | undefined> {
    // An email always holds "@", a username never does: one indexed lookup either way.
    return identifier.includes('@')
      ? this.sql.one<LoginRow>('login_by_email', `SELECT ${USER_COLUMNS}, password_hash FROM users WHERE email = $1`, [identifier])
      : this.sql.one<LoginRow>('login_by_username', `SELECT ${USER_COLUMNS}, password_hash FROM users WHERE lower(username) = $1`, [identifier]);
  }

  private async rehash(userId: string, password: string): Promise<void> {
    const passwordHash = await this.hasher.hash(password);
    await this.dataSource.getRepository(UserEntity).update({ id: userId }, { passwordHash });
  }

  private uniqueViolation(error: unknown): Error | null {
    const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
    const code = e.driverError?.code ?? e.code;
    const constraint = e.driverError?.constraint ?? e.constraint;
    if (code !== PG_UNIQUE_VIOLATION) return null;
    if (constraint === 'uq_users_username') return new UsernameTakenError();
    return new EmailTakenError();
  }
}
