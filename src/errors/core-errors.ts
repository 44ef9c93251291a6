import { defineErrors, type AppError, type FieldError } from './app-error';

/**
 * Codes every module may send (CONTRACT.md, Errors). Request-level errors keep Apollo's own codes
 * (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, ...). Messages are generic on purpose: the
 * cause stays in the logs.
 */
export const CoreErrors = defineErrors({
  UNAUTHENTICATED: 'Authentication required.',
  FORBIDDEN: 'You do not have permission to do this.',
  BAD_USER_INPUT: 'Some arguments are invalid.',
  INVALID_TOKEN: 'Invalid or expired token.',
  ACCOUNT_LOCKED: 'This account is locked. Contact an administrator.',
  RATE_LIMITED: 'Too many attempts. Try again later.',
  SERVICE_UNAVAILABLE: 'The service is temporarily unavailable. Try again shortly.',
  INTERNAL_SERVER_ERROR: 'Internal server error.',
});

/** BAD_USER_INPUT naming the fields; with one field its message is the error's message. */
export function badUserInput(fields: FieldError[]): AppError {
  return CoreErrors.BAD_USER_INPUT({ fields, ...(fields.length === 1 ? { message: fields[0].message } : {}) });
}

export function badField(field: string, message: string): AppError {
  return badUserInput([{ field, message }]);
}

export function rateLimited(retryAfterSeconds: number): AppError {
  return CoreErrors.RATE_LIMITED({ retryAfter: retryAfterSeconds });
}

export function serviceUnavailable(retryAfterSeconds = 1): AppError {
  return CoreErrors.SERVICE_UNAVAILABLE({ retryAfter: retryAfterSeconds });
}
