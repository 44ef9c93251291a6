/** Longest code input considered at all (a 6-digit code or an 11-character recovery code with spaces). */
export const MAX_CODE_INPUT_CHARS = 64;
