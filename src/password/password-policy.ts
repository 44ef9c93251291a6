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

/** Words anyone guessing a password for this service tries first: refused like the account's own names. */
const SERVICE_WORDS = ['bouncer'];

/** Nothing a person sees: separators and spaces, control and format characters, marks, default-ignorables. */
const INVISIBLE = /^[\s\p{Z}\p{Cc}\p{Cf}\p{Cs}\p{Cn}\p{M}\p{Default_Ignorable_Code_Point}]*$/u;
/** Characters that take no room at all (zero-width spaces and joiners, soft hyphens, BOM, ...). */
const ZERO_WIDTH = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * Characters a person sees: grapheme clusters (a letter with its accents, an emoji sequence) that
 * are more than whitespace, marks, format or control characters. 8 zero-width spaces are 8 code
 * points and nothing to see.
 */
export function visibleLength(text: string): number {
  let count = 0;
  for (const { segment } of graphemes.segment(text)) if (!INVISIBLE.test(segment)) count++;
  return count;
}

/** What a guesser would try for this password: without zero-width characters, without spaces around it, case-folded. */
function asSeen(normalized: string): string {
  return normalized.replace(ZERO_WIDTH, '').trim().toLowerCase();
}

/**
 * The rules of CONTRACT.md: 8..256 characters after NFKC, any Unicode, no composition rules, not a
 * common password, not containing the email local part or the username. Checked on what the
 * password looks like, so a technicality does not get a weak one through: at least 8 visible
 * characters; the common list and the context words are compared without zero-width characters
 * and surrounding spaces; the local part counts without its plus-address tag (`ada+shop` is
 * `ada`); the service's own name counts as a context word.
 */
export function checkPassword(field: string, password: string, context: PasswordContext): FieldError | null {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < PASSWORD_MIN_CHARS) return { field, message: `Password must be at least ${PASSWORD_MIN_CHARS} characters.` };
  if (length > PASSWORD_MAX_CHARS) return { field, message: `Password must be at most ${PASSWORD_MAX_CHARS} characters.` };
  if (visibleLength(normalized) < PASSWORD_MIN_CHARS) {
    return { field, message: `Password must have at least ${PASSWORD_MIN_CHARS} visible characters; spaces, accents and invisible characters do not count.` };
  }
  const seen = asSeen(normalized);
  if (loadCommonPasswords().has(normalized.toLowerCase()) || loadCommonPasswords().has(seen)) {
    return { field, message: 'This password is too common; choose one that is harder to guess.' };
  }
  const localPart = context.email?.split('@')[0]?.split('+')[0]?.toLowerCase();
  if (localPart && localPart.length >= CONTEXT_MIN_CHARS && seen.includes(localPart)) {
    return { field, message: 'Password must not contain your email address.' };
  }
  const username = context.username?.toLowerCase();
  if (username && username.length >= CONTEXT_MIN_CHARS && seen.includes(username)) {
    return { field, message: 'Password must not contain your username.' };
  }
  if (SERVICE_WORDS.some((word) => seen.includes(word))) {
    return { field, message: 'Password must not contain the name of this service.' };
  }
  return null;
}
