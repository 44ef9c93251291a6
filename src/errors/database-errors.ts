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
