import { GraphQLError } from 'graphql';

export interface FieldError {
  field: string;
  message: string;
}

export interface ErrorDetails {
  /** Replaces the catalogue's public message (rarely: messages stay generic on purpose). */
  message?: string;
  /** BAD_USER_INPUT and friends: which argument or input field, and why. */
  fields?: FieldError[];
  /** RATE_LIMITED / SERVICE_UNAVAILABLE: whole seconds before a retry may succeed. */
  retryAfter?: number;
  /**
   * UNAUTHENTICATED asking for a new sign-in: how old, in whole seconds, the sign-in may be for the
   * call to pass (RFC 9470's max_age), so a client can tell "sign in again" from a dead token.
   */
  maxAge?: number;
  /** Why, in a word the server chose (`reuse_detected`): for metrics and logs, never sent to the client. */
  reason?: string;
}

/**
 * The one error type the service sends on purpose: a catalogue code and its public message, plus
 * optional fields and retryAfter. Unknown errors never become one; formatError masks them.
 */
export class AppError extends GraphQLError {
  readonly reason: string | undefined;

  constructor(
    readonly code: string,
    message: string,
    details: ErrorDetails = {},
  ) {
    const extensions: Record<string, unknown> = { code };
    if (details.fields) extensions.fields = details.fields;
    if (details.retryAfter !== undefined) extensions.retryAfter = Math.max(1, Math.ceil(details.retryAfter));
    if (details.maxAge !== undefined) extensions.maxAge = Math.floor(details.maxAge);
    super(details.message ?? message, { extensions });
    this.reason = details.reason;
  }
}

/** Code → public message. A module declares its codes in one of these; the app joins them into one catalogue. */
export type ErrorCatalogue = Readonly<Record<string, string>>;

export type ErrorFactories<C extends ErrorCatalogue> = { readonly [K in keyof C]: (details?: ErrorDetails) => AppError } & {
  readonly catalogue: C;
};

/** Declares a module's error codes once: `Errors.CODE({ fields })` throws-ready, `Errors.catalogue` for the app. */
export function defineErrors<C extends ErrorCatalogue>(catalogue: C): ErrorFactories<C> {
  const factories: Record<string, unknown> = { catalogue };
  for (const [code, message] of Object.entries(catalogue)) {
    factories[code] = (details?: ErrorDetails) => new AppError(code, message, details);
  }
  return factories as ErrorFactories<C>;
}

/** Joins module catalogues; a code declared twice is a programming error caught at start. */
export function joinCatalogues(catalogues: ErrorCatalogue[]): ErrorCatalogue {
  const joined: Record<string, string> = {};
  for (const catalogue of catalogues) {
    for (const [code, message] of Object.entries(catalogue)) {
      if (code in joined) throw new Error(`error code ${code} is declared by two modules`);
      joined[code] = message;
    }
  }
  return joined;
}
