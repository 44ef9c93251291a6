import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { AuthenticationError, AuthorizationError } from 'type-graphql';
import { AppError } from './app-error';
import { CoreErrors } from './core-errors';
import { isDatabaseUnavailable } from './database-errors';

/** Codes Apollo itself gives to request-level errors; they pass through untouched. */
export const APOLLO_REQUEST_CODES: ReadonlySet<string> = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_USER_INPUT', // variable coercion errors
]);

/** The error a resolver (or the driver below it) threw, under GraphQL's wrapping. */
function unwrap(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof GraphQLError && current.originalError && !(current instanceof AppError); depth++) {
    current = current.originalError;
  }
  return current;
}

export interface FormatErrorOptions {
  isProduction: boolean;
  /** Called with every error that is masked, so the cause reaches the logs and never the client. */
  onMaskedError?: (error: unknown) => void;
}

function stripSuggestions(message: string): string {
  // "Did you mean ...?" leaks the schema when introspection is off.
  return message.replace(/\s*Did you mean .*\?$/s, '');
}

/**
 * The single formatError: every error leaves the service with a catalogue code, no stack trace,
 * and no internal detail (SQL, driver messages) in production.
 */
export function createFormatError(options: FormatErrorOptions) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrap(error);
    const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };

    if (original instanceof AppError) {
      return { ...base, message: original.message, extensions: { ...original.extensions } };
    }
    if (original instanceof AuthenticationError) {
      return { ...base, message: CoreErrors.catalogue.UNAUTHENTICATED, extensions: { code: 'UNAUTHENTICATED' } };
    }
    if (original instanceof AuthorizationError) {
      // TypeGraphQL says UNAUTHORIZED for a missing role; the contract says FORBIDDEN.
      return { ...base, message: CoreErrors.catalogue.FORBIDDEN, extensions: { code: 'FORBIDDEN' } };
    }
    if (isDatabaseUnavailable(original)) {
      options.onMaskedError?.(original);
      return {
        ...base,
        message: CoreErrors.catalogue.SERVICE_UNAVAILABLE,
        extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 1 },
      };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && APOLLO_REQUEST_CODES.has(code)) {
      const message = options.isProduction ? stripSuggestions(formatted.message) : formatted.message;
      const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
      return { ...base, message, extensions };
    }
    options.onMaskedError?.(original);
    return {
      ...base,
      message: options.isProduction ? CoreErrors.catalogue.INTERNAL_SERVER_ERROR : stripSuggestions(formatted.message),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
