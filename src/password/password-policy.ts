import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FieldError } from '../errors/app-error';

/** NIST SP 800-63B 5.1.1.2: at least 8; a generous cap keeps hashing input bounded. */
export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_CHARS = 256;
/** Email local parts and usernames shorter than this are too common as substrings to forbid. */
const CONTEXT_MIN_CHARS = 3;
const LIST_FILE = 'common-passwords.txt';

let commonPasswords: Set<string> | undefined;

function loadCommonPasswords(): Set<string> {
  if (commonPasswords) return commonPasswords;
  // Same folder when run by ts-jest; beside the compiled file after `npm run build` copies it.
  const candidates = [join(__dirname, LIST_FILE), join(__dirname, '..', '..', '..', 'src', 'password', LIST_FILE)];
  const path = candidates.find((p) => existsSync(p));
  if (!path) throw new Error(`common password list ${LIST_FILE} is missing`);
  commonPasswords = new Set(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#')),
  );
  return commonPasswords;
}

/** Loaded at start so the first registration does not pay for it. */
export function commonPasswordCount(): number {
  return loadCommonPasswords().size;
}

export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

export interface PasswordContext {
  email?: string;
  username?: string | null;
}

/**
 * The rules of CONTRACT.md: 8..256 characters after NFKC, any Unicode, no composition rules, not a
 * common password, not containing the email local part or the username.
 */
export function checkPassword(field: string, password: string, context: PasswordContext): FieldError | null {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < PASSWORD_MIN_CHARS) return { field, message: `Password must be at least ${PASSWORD_MIN_CHARS} characters.` };
  if (length > PASSWORD_MAX_CHARS) return { field, message: `Password must be at most ${PASSWORD_MAX_CHARS} characters.` };
  const folded = normalized.toLowerCase();
  if (loadCommonPasswords().has(folded)) {
    return { field, message: 'This password is too common; choose one that is harder to guess.' };
  }
  const localPart = context.email?.split('@')[0]?.toLowerCase();
  if (localPart && localPart.length >= CONTEXT_MIN_CHARS && folded.includes(localPart)) {
    return { field, message: 'Password must not contain your email address.' };
  }
  const username = context.username?.toLowerCase();
  if (username && username.length >= CONTEXT_MIN_CHARS && folded.includes(username)) {
    return { field, message: 'Password must not contain your username.' };
  }
  return null;
}
