import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { AuthenticationError, AuthorizationError } from 'type-graphql';
import type { GraphQLContext } from '../context/context';
import { AppError } from '../errors/app-error';
import { isDatabaseUnavailable } from '../errors/database-errors';
import type { BouncerMetrics } from './metrics';

/** Root fields that sign in, by method (the passkey and OAuth ones exist once their modules do). */
const LOGIN_METHODS: Record<string, string> = { login: 'password', finishPasskeyLogin: 'passkey', completeOAuthLogin: 'oauth' };
/** Root fields that check a second factor. */
const TWO_FACTOR_OPERATIONS = new Set(['verifyTwoFactor', 'verifyTwoFactorPasskey', 'confirmTwoFactor', 'disableTwoFactor', 'regenerateRecoveryCodes']);
/** Root fields that finish a WebAuthn ceremony, by kind. */
const PASSKEY_CEREMONIES: Record<string, string> = { finishPasskeyRegistration: 'registration', finishPasskeyLogin: 'login', verifyTwoFactorPasskey: 'second_factor' };
const REFRESH = 'refreshToken';
/** A reason the server put on an error (AppError.reason): one short word, never data. */
const REASON = /^[a-z][a-z_]{0,39}$/;

/**
 * Counts every GraphQL request (by operation: its root field, never the client-chosen operation
 * name or an alias) and, from the resolvers' own results and errors, the outcomes of sign-ins,
 * second factors, passkey ceremonies, refreshes and rate limits. Outcomes are `success`,
 * `two_factor_required`, or the error's catalogue code (or the reason the server gave it) in lower
 * case; a code outside the catalogue counts as `other`.
 */
export function metricsPlugin(metrics: BouncerMetrics, knownCodes: ReadonlySet<string>): ApolloServerPlugin<GraphQLContext> {
  const codeLabel = (code: unknown): string => (typeof code === 'string' && knownCodes.has(code) ? code.toLowerCase() : 'other');

  const outcomeOf = (error: unknown): string => {
    const original = unwrap(error);
    if (original instanceof AppError) return original.reason && REASON.test(original.reason) ? original.reason : codeLabel(original.code);
    if (original instanceof AuthenticationError) return 'unauthenticated';
    if (original instanceof AuthorizationError) return 'forbidden';
    return isDatabaseUnavailable(original) ? 'service_unavailable' : 'internal_server_error';
  };

  const record = (field: string, error: unknown, result: unknown): void => {
    const outcome = error ? outcomeOf(error) : result && typeof result === 'object' && 'challengeToken' in result ? 'two_factor_required' : 'success';
    if (outcome === 'rate_limited') metrics.rateLimited.inc({ operation: field });
    if (field in LOGIN_METHODS) metrics.logins.inc({ method: LOGIN_METHODS[field], outcome });
    if (TWO_FACTOR_OPERATIONS.has(field)) metrics.twoFactor.inc({ operation: field, outcome });
    if (field in PASSKEY_CEREMONIES) metrics.passkeys.inc({ ceremony: PASSKEY_CEREMONIES[field], outcome });
    if (field === REFRESH) metrics.refreshes.inc({ outcome });
  };

  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      // Until an operation resolves the document did not parse or validate.
      let operation = 'invalid';
      return {
        async didResolveOperation({ operation: resolved, document, schema }) {
          operation = operationLabel(schema, resolved, document);
        },
        async executionDidStart() {
          return {
            willResolveField({ info }) {
              if (info.path.prev !== undefined) return undefined; // root fields only: the rest costs nothing
              const field = info.fieldName;
              return (error: unknown, result: unknown) => record(field, error, result);
            },
          };
        },
        async willSendResponse({ response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const outcome = errors?.length ? codeLabel(errors[0].extensions?.code) : 'ok';
          metrics.requests.inc({ operation, outcome });
          metrics.requestDuration.observe({ operation }, Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };
}

/** The error a resolver threw, under GraphQL's wrapping. */
function unwrap(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof GraphQLError && !(current instanceof AppError) && current.originalError; depth++) current = current.originalError;
  return current;
}

/**
 * The schema's name for what an operation asks: its one root field, `multiple` for several,
 * `introspection` for __schema/__type/__typename alone. Aliases and operation names are the
 * client's words and never become labels.
 */
export function operationLabel(schema: GraphQLSchema, operation: OperationDefinitionNode | undefined, document: DocumentNode): string {
  if (!operation) return 'invalid';
  const names = new Set<string>();
  collectRootFields(operation.selectionSet, document, names, new Set());
  const fields = [...names].filter((n) => !n.startsWith('__'));
  if (fields.length === 0) return 'introspection';
  if (fields.length > 1) return 'multiple';
  return schema.getRootType(operation.operation)?.getFields()[fields[0]] ? fields[0] : 'other';
}

function collectRootFields(selections: SelectionSetNode, document: DocumentNode, names: Set<string>, seen: Set<string>): void {
  for (const selection of selections.selections) {
    if (selection.kind === Kind.FIELD) names.add(selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT) collectRootFields(selection.selectionSet, document, names, seen);
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION) collectRootFields(fragment.selectionSet, document, names, seen);
    }
  }
}
