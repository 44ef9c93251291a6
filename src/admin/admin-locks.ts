import { isUuid } from '../db/uuid';
import type { EntityManager } from 'typeorm';
import { badField, CoreErrors } from '../errors/core-errors';
import { rowsOf } from '../db/sql';
import { Role } from '../users/role.enum';
import { USER_COLUMNS, type UserRow } from '../users/user.type';

/** An administrator's user id, or null for the operator at the command line. */
export type Actor = string | null;


/** The administrators as this transaction holds them (their rows locked). */
export interface Administrators {
  /** Administrators who can act: ADMIN and not locked. */
  readonly active: ReadonlySet<string>;
}

export function checkUserId(userId: string): void {
  if (!isUuid(userId)) throw badField('userId', 'No such user.');
}

export function actorLabel(actor: Actor): string {
  return actor ?? 'cli';
}

/**
 * Locks every administrator's row, always in id order, then tells who may still act. Every change
 * that could leave the service without an administrator (lock, delete, delete my account) starts
 * here, so two of them take turns and the second sees what the first did: two administrators
 * locking or deleting each other at once end with one of them refused, never with none left.
 * (Role changes lock the same rows in the same order, so the two kinds cannot deadlock.) An actor
 * who lost the role or was locked since the guard read their roles is refused here.
 */
export async function lockAdministrators(m: EntityManager, actor: Actor): Promise<Administrators> {
  const rows = await rowsOf<{ id: string; locked: boolean }>(
    m,
    `SELECT id, locked_at IS NOT NULL AS locked FROM users WHERE $1 = ANY(roles) ORDER BY id FOR UPDATE`,
    [Role.ADMIN],
  );
  const active = new Set(rows.filter((r) => !r.locked).map((r) => r.id));
  if (actor !== null && !active.has(actor)) throw CoreErrors.FORBIDDEN();
  return { active };
}

/** Locks the account's row (after the administrators': always that order). */
export async function lockAccount(m: EntityManager, userId: string): Promise<UserRow> {
  const [row] = await rowsOf<UserRow>(m, `SELECT ${USER_COLUMNS} FROM users WHERE id = $1 FOR UPDATE`, [userId]);
  if (!row) throw badField('userId', 'No such user.');
  return row;
}

/** Refuses a change that would leave no administrator able to act (CONTRACT.md: FORBIDDEN). */
export function keepAnAdministrator(admins: Administrators, target: UserRow): void {
  if (!admins.active.has(target.id)) return;
  if (admins.active.size <= 1) throw CoreErrors.FORBIDDEN({ message: 'The last administrator cannot be locked or removed.' });
}
