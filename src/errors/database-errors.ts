/** Errors that mean "the database cannot be reached right now": the request may be retried. */
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH']);
// PostgreSQL SQLSTATE classes 08 (connection exception) and 57P0x (operator intervention: shutdown).
const UNAVAILABLE_SQLSTATE = /^(08|57P0)/;
const UNAVAILABLE_MESSAGE =
  /(timeout exceeded when trying to connect|Connection terminated|connection terminated|Client has encountered a connection error|the database system is (starting up|shutting down)|Cannot use a pool after calling end)/;

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 4) return false;
  const e = error as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; errors?: unknown; thrownValue?: unknown };
  if (typeof e.code === 'string' && (UNAVAILABLE_ERRNO.has(e.code) || UNAVAILABLE_SQLSTATE.test(e.code))) return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  // graphql wraps a thrown value that is not an Error of its realm as NonErrorThrown { thrownValue }.
  return (
    isDatabaseUnavailable(e.driverError, depth + 1) ||
    isDatabaseUnavailable(e.cause, depth + 1) ||
    isDatabaseUnavailable(e.thrownValue, depth + 1)
  );
}

/**
 * Fields of a PostgreSQL error that say where and why a statement failed, never with which values.
 * Left out on purpose: TypeORM's `parameters` (every bind value: token hashes, encrypted tokens,
 * addresses), `detail` ("Failing row contains (...)", "Key (x)=(...) already exists"), `where` and
 * `internalQuery` (statement text of a nested query), and the driver's own copy of all of these.
 */
const LOGGABLE_DATABASE_FIELDS = ['severity', 'schema', 'table', 'column', 'dataType', 'constraint', 'routine', 'position', 'file', 'line', 'hint'];
// Class 22 (data exception) messages end with the refused value: invalid input syntax for type uuid: "...".
const VALUE_IN_MESSAGE = /(: )"[^]*"$/;

function looksLikeDatabaseError(value: Record<string, unknown>): boolean {
  return (
    (typeof value.query === 'string' && 'parameters' in value) ||
    (typeof value.driverError === 'object' && value.driverError !== null) ||
    (typeof value.severity === 'string' && typeof value.routine === 'string')
  );
}

/**
 * What a log line may hold of an error already serialized (pino's err serializer): a database error
 * (TypeORM's QueryFailedError or the driver's), at any depth, keeps its type, message, stack, SQL
 * text (placeholders only), SQLSTATE (as `sqlState`: `code` is a redacted key in every log line)
 * and the fields above; everything else, bind parameters first, is dropped.
 */
export function withoutDatabaseValues(serialized: unknown, depth = 0): unknown {
  if (typeof serialized !== 'object' || serialized === null || depth > 4) return serialized;
  if (Array.isArray(serialized)) return serialized.map((item) => withoutDatabaseValues(item, depth + 1));
  const source = serialized as Record<string, unknown>;
  if (!looksLikeDatabaseError(source)) {
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(source)) copy[key] = withoutDatabaseValues(value, depth + 1);
    return copy;
  }
  const message = typeof source.message === 'string' ? source.message : '';
  const dataException = typeof source.code === 'string' && source.code.startsWith('22');
  const safeMessage = dataException ? message.replace(VALUE_IN_MESSAGE, '$1"[redacted]"') : message;
  // The stack starts with the message: it must lose the same value.
  const stack = typeof source.stack === 'string' && message && safeMessage !== message ? source.stack.split(message).join(safeMessage) : source.stack;
  const safe: Record<string, unknown> = { type: source.type, message: safeMessage, stack };
  if (typeof source.query === 'string') safe.query = source.query;
  if (typeof source.code === 'string') safe.sqlState = source.code;
  for (const field of LOGGABLE_DATABASE_FIELDS) if (source[field] !== undefined) safe[field] = source[field];
  return safe;
}
