import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  getNamedType,
  GraphQLError,
  isInterfaceType,
  isObjectType,
  Kind,
  type FieldNode,
  type GraphQLField,
  type GraphQLNamedType,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { GraphQLExtensions } from '../app/http-server';
import type { LimitsConfig } from '../config/core-config';
import { CHECKS_CREDENTIALS } from './credential-check';

/** Largest page a `first`/`last` argument may ask for (`users(first:)` above it is BAD_USER_INPUT). */
const MAX_PAGE_SIZE = 100;
/** Every selected field costs this, times the page sizes of the lists around it. */
const FIELD_COST = 1;

/**
 * The document limits, all checked before anything executes:
 * - tokens: graphql-js stops parsing past `maxTokens` (GRAPHQL_PARSE_FAILED), so a huge document
 *   costs no more than that many tokens of work;
 * - depth (introspection fields included, fragments flattened to their real depth), aliases and
 *   directives: graphql-armor's validation rules;
 * - cost and credential fields: the rules below (GRAPHQL_VALIDATION_FAILED like the others).
 */
export function graphqlDocumentLimits(limits: LimitsConfig): GraphQLExtensions {
  const armor = new ApolloArmor({
    // Apollo's hideSchemaDetailsFromClientErrors already drops suggestions in production.
    blockFieldSuggestion: { enabled: false },
    // Done by the parser itself (parseOptions) rather than by lexing the document a second time.
    maxTokens: { enabled: false },
    // Replaced by queryCostRule: armor's cost multiplies by any `first`, so users(first: 1000) would be
    // refused as too costly instead of reaching its resolver's BAD_USER_INPUT (CONTRACT.md).
    costLimit: { enabled: false },
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: false, flattenFragments: true, exposeLimits: true },
    // allowList: armor leaves aliases of __typename (and aliases named __typename) out of the count
    // by default; CONTRACT.md says at most 15 aliases, whatever they name.
    maxAliases: { n: limits.maxAliases, allowList: [], exposeLimits: true },
    maxDirectives: { n: limits.maxDirectives, exposeLimits: true },
  }).protect();
  return {
    plugins: [],
    validationRules: [...armor.validationRules, queryCostRule(limits.maxCost), credentialFieldsRule(limits.maxCredentialFieldsPerDocument)],
    parseOptions: { maxTokens: limits.maxTokens },
  };
}

/**
 * Refuses an operation with more than `max` mutation fields marked @ChecksCredentials, counted
 * through inline fragments and fragment spreads (each spread counts again: an upper bound).
 */
export function credentialFieldsRule(max: number): ValidationRule {
  return (context: ValidationContext) => {
    // Marked where each mutation is declared (@ChecksCredentials), read from the schema here.
    const mutations = context.getSchema().getMutationType()?.getFields() ?? {};
    const checksCredentials = (name: string) => mutations[name]?.extensions?.[CHECKS_CREDENTIALS] === true;
    const count = (selectionSet: SelectionSetNode, visiting: Set<string>): number => {
      let found = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          if (checksCredentials(selection.name.value)) found++;
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          found += count(selection.selectionSet, visiting);
        } else if (!visiting.has(selection.name.value)) {
          // A cycle is NoFragmentCyclesRule's to report; here it must only not recurse forever.
          const fragment = context.getFragment(selection.name.value);
          if (fragment) found += count(fragment.selectionSet, new Set(visiting).add(selection.name.value));
        }
      }
      return found;
    };
    return {
      OperationDefinition(node) {
        // Mutation fields only exist at the root of a mutation: no need to look deeper.
        if (node.operation !== 'mutation') return;
        const found = count(node.selectionSet, new Set());
        if (found > max) {
          context.reportError(
            new GraphQLError(`At most ${max} login, registration or two-factor fields are allowed in one request, found ${found}.`, { nodes: [node] }),
          );
        }
      },
    };
  };
}

/**
 * Static cost of each operation: every field costs FIELD_COST, multiplied by the page size of
 * each paginated list around it (`first`/`last`: the literal, the field's default, or the largest
 * page for a variable), clamped to MAX_PAGE_SIZE, or by an unpaginated list's `maxItems` extension. Fragments are costed once and reused, so
 * fragment fan-out bombs are priced in linear time.
 */
export function queryCostRule(maxCost: number): ValidationRule {
  return (context: ValidationContext) => {
    const fragmentCosts = new Map<string, number>();
    const schema = context.getSchema();

    const selectionCost = (selectionSet: SelectionSetNode, parentType: GraphQLNamedType | undefined): number => {
      let cost = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          const field = fieldOf(parentType, selection.name.value);
          const children = selection.selectionSet ? selectionCost(selection.selectionSet, field && getNamedType(field.type)) : 0;
          cost += FIELD_COST + pageSize(selection, field) * children;
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parentType;
          cost += selectionCost(selection.selectionSet, type ?? undefined);
        } else {
          cost += fragmentCost(selection.name.value);
        }
        // Past the limit the exact figure no longer matters: stop before numbers explode.
        if (cost > maxCost) return cost;
      }
      return cost;
    };

    const fragmentCost = (name: string): number => {
      const known = fragmentCosts.get(name);
      if (known !== undefined) return known;
      fragmentCosts.set(name, 0); // a cycle (refused by NoFragmentCyclesRule) must not recurse forever
      const fragment = context.getFragment(name);
      const cost = fragment ? selectionCost(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? undefined) : 0;
      fragmentCosts.set(name, cost);
      return cost;
    };

    return {
      OperationDefinition(node) {
        const root = schema.getRootType(node.operation) ?? undefined;
        const cost = selectionCost(node.selectionSet, root);
        if (cost > maxCost) {
          context.reportError(new GraphQLError(`Query cost limit of ${maxCost} exceeded.`, { nodes: [node] }));
        }
      },
    };
  };
}

function fieldOf(parentType: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  if (!parentType || !(isObjectType(parentType) || isInterfaceType(parentType))) return undefined;
  return parentType.getFields()[name];
}

function pageSize(node: FieldNode, field: GraphQLField<unknown, unknown> | undefined): number {
  const argument = node.arguments?.find((a) => a.name.value === 'first' || a.name.value === 'last');
  let size: number;
  if (argument?.value.kind === Kind.INT) {
    size = Number(argument.value.value);
  } else if (argument) {
    size = MAX_PAGE_SIZE; // a variable: its value is unknown at validation
  } else {
    const declared = field?.args.find((a) => a.name === 'first' || a.name === 'last');
    // An unpaginated list declares its most entries with @Extensions({ maxItems }) (`sessions`).
    if (!declared) return typeof field?.extensions.maxItems === 'number' ? Math.max(field.extensions.maxItems, 1) : 1;
    size = typeof declared.defaultValue === 'number' ? declared.defaultValue : MAX_PAGE_SIZE;
  }
  return Math.min(Math.max(size, 1), MAX_PAGE_SIZE);
}
