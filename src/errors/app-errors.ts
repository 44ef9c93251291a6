import { GraphQLError } from 'graphql';
import { ErrorCode, ErrorMessage } from './error-codes';

export interface FieldError {
  field: string;
  message: string;
}

/** Base of every error the service sends on purpose: a contract code and a public message. */
export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string = ErrorMessage[code],
    extensions: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...extensions, code } });
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message?: string) {
    super(ErrorCode.UNAUTHENTICATED, message);
  }
}

export class ForbiddenError extends AppError {
  constructor() {
    super(ErrorCode.FORBIDDEN);
  }
}

export class BadUserInputError extends AppError {
  constructor(readonly fields: FieldError[]) {
    super(ErrorCode.BAD_USER_INPUT, fields.length === 1 ? fields[0].message : ErrorMessage.BAD_USER_INPUT, { fields });
  }

  static field(field: string, message: string): BadUserInputError {
    return new BadUserInputError([{ field, message }]);
  }
}

export class EmailTakenError extends AppError {
  constructor() {
    super(ErrorCode.EMAIL_TAKEN, ErrorMessage.EMAIL_TAKEN, { fields: [{ field: 'email', message: ErrorMessage.EMAIL_TAKEN }] });
  }
}

export class UsernameTakenError extends AppError {
  constructor() {
    super(ErrorCode.USERNAME_TAKEN, ErrorMessage.USERNAME_TAKEN, {
      fields: [{ field: 'username', message: ErrorMessage.USERNAME_TAKEN }],
    });
  }
}

export class InvalidCredentialsError extends AppError {
  constructor() {
    super(ErrorCode.INVALID_CREDENTIALS);
  }
}

export class InvalidTwoFactorCodeError extends AppError {
  constructor() {
    super(ErrorCode.INVALID_TWO_FACTOR_CODE);
  }
}

export class InvalidTokenError extends AppError {
  constructor() {
    super(ErrorCode.INVALID_TOKEN);
  }
}

export class TwoFactorAlreadyEnabledError extends AppError {
  constructor() {
    super(ErrorCode.TWO_FACTOR_ALREADY_ENABLED);
  }
}

export class TwoFactorNotEnabledError extends AppError {
  constructor() {
    super(ErrorCode.TWO_FACTOR_NOT_ENABLED);
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number) {
    super(ErrorCode.RATE_LIMITED, ErrorMessage.RATE_LIMITED, { retryAfter: Math.max(1, Math.ceil(retryAfterSeconds)) });
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(retryAfterSeconds = 1) {
    super(ErrorCode.SERVICE_UNAVAILABLE, ErrorMessage.SERVICE_UNAVAILABLE, { retryAfter: retryAfterSeconds });
  }
}
