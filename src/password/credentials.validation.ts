import type { FieldError } from '../errors/app-error';

export const EMAIL_MAX_CHARS = 254; // RFC 5321 path limit
const EMAIL_LOCAL_MAX_CHARS = 64;
// Practical, not RFC 5322 in full: one @, no spaces or control characters, a dotted domain.
const EMAIL_PATTERN = /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}.]{2,}$/u;
const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,32}$/;

export function normalizeEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

export function checkEmail(field: string, email: string): FieldError | null {
  if (email.length === 0) return { field, message: 'Email is required.' };
  if (email.length > EMAIL_MAX_CHARS) return { field, message: `Email must be at most ${EMAIL_MAX_CHARS} characters.` };
  const at = email.lastIndexOf('@');
  if (!EMAIL_PATTERN.test(email) || at > EMAIL_LOCAL_MAX_CHARS || email.includes('..')) {
    return { field, message: 'Email is not a valid address.' };
  }
  return null;
}

export function checkUsername(field: string, username: string): FieldError | null {
  if (!USERNAME_PATTERN.test(username)) {
    return { field, message: 'Username must be 3 to 32 letters, digits, "_", "." or "-".' };
  }
  return null;
}
