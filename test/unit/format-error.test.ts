import { GraphQLError } from 'graphql';
import { createFormatError } from '../../src/errors/format-error';
import { PasswordErrors } from '../../src/password/password.errors';

const formatted = (error: GraphQLError) => ({ message: error.message, extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at secret.ts:1'] } });

test('masks an unknown error in production: generic message, no stack, no SQL', () => {
  const masked: unknown[] = [];
  const format = createFormatError({ isProduction: true, onMaskedError: (e) => masked.push(e) });
  const original = new GraphQLError('relation "users" violates ... SELECT password_hash FROM users', { originalError: new Error('SELECT password_hash') });
  const out = format(formatted(original), original);
  expect(out).toEqual({ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  expect(masked).toHaveLength(1);
});

test('keeps the code and message of the service\'s own errors', () => {
  const format = createFormatError({ isProduction: true });
  const error = PasswordErrors.INVALID_CREDENTIALS();
  expect(format({ message: error.message, extensions: { code: 'INVALID_CREDENTIALS' } }, error)).toEqual({ message: 'Invalid credentials.', extensions: { code: 'INVALID_CREDENTIALS' } });
});

test('maps a lost database connection to SERVICE_UNAVAILABLE', () => {
  const format = createFormatError({ isProduction: true });
  const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const error = new GraphQLError(cause.message, { originalError: cause });
  expect(format(formatted(error), error).extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', retryAfter: 1 });
});

test('removes "Did you mean" suggestions from request errors in production', () => {
  const format = createFormatError({ isProduction: true });
  const error = new GraphQLError('Cannot query field "mee" on type "Query". Did you mean "me"?');
  const out = format({ message: error.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }, error);
  expect(out.message).toBe('Cannot query field "mee" on type "Query".');
});
