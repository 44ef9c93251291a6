import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, visit, type ASTVisitor, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { FieldError } from '../errors/app-error';
import { CoreErrors } from '../errors/core-errors';

const NUL = '\u0000';
const NUL_MESSAGE = 'Must not contain the NUL character (U+0000).';

/**
 * PostgreSQL cannot store U+0000 in text ("invalid byte sequence for encoding UTF8: 0x00"): a NUL
 * that reaches a query turns a normal call into INTERNAL_SERVER_ERROR. So no string holding one
 * gets past this point, whichever field it is for: every string of the operation that will run
 * (literal arguments, variable defaults, and the variables it declares, at any depth) is checked
 * once the operation is resolved, before anything executes. The answer is BAD_USER_INPUT (HTTP
 * 400) naming the argument or input field that holds the string (CONTRACT.md, Errors).
 */
export function nulGuardPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (!operation) return; // Apollo refuses an unresolved operation itself
          const fields = fieldsHoldingNul(document, operation, request.variables ?? {});
          if (fields.length === 0) return;
          const details: FieldError[] = fields.map((field) => ({ field, message: NUL_MESSAGE }));
          // A plain GraphQLError: Apollo reads (and then drops) extensions.http; thrown here it would be a 500.
          throw new GraphQLError(details.length === 1 ? NUL_MESSAGE : CoreErrors.catalogue.BAD_USER_INPUT, {
            extensions: { code: 'BAD_USER_INPUT', fields: details, http: { status: 400 } },
          });
        },
      };
    },
  };
}

/** What the document alone says about an operation: the same for every request that sends it. */
interface OperationFacts {
  /** Arguments and input fields whose literal strings (or whose variables' defaults) hold a NUL, in document order. */
  literal: string[];
  /** Variable name -> the argument or input field it is passed to (its first use). */
  usedAs: Map<string, string>;
}

/**
 * Apollo hands every request with the same query text the same parsed document (its document
 * store), so the walk of the operation runs once per document, not once per request.
 */
const factsOf = new WeakMap<OperationDefinitionNode, OperationFacts>();

function operationFacts(document: DocumentNode, operation: OperationDefinitionNode): OperationFacts {
  const known = factsOf.get(operation);
  if (known) return known;
  const found = new Set<string>();
  const usedAs = new Map<string, string>();
  /** Variables whose default value is a string holding a NUL directly (not inside an input object). */
  const badDefaults: string[] = [];

  const names: string[] = []; // enclosing Argument / ObjectField names, innermost last
  let defining: string | null = null; // inside the definition of this variable
  const visitor: ASTVisitor = {
    VariableDefinition: {
      enter(node) {
        defining = node.variable.name.value;
      },
      leave() {
        defining = null;
      },
    },
    Argument: { enter: (node) => void names.push(node.name.value), leave: () => void names.pop() },
    ObjectField: { enter: (node) => void names.push(node.name.value), leave: () => void names.pop() },
    Variable(node) {
      if (defining === null && names.length > 0 && !usedAs.has(node.name.value)) usedAs.set(node.name.value, names[names.length - 1]);
    },
    StringValue(node) {
      if (!node.value.includes(NUL)) return;
      if (names.length > 0) found.add(names[names.length - 1]);
      else if (defining !== null) badDefaults.push(defining);
    },
  };
  // The operation that runs and the fragments it may spread; other operations of the document do not run.
  for (const definition of document.definitions) {
    if (definition === operation || definition.kind === Kind.FRAGMENT_DEFINITION) visit(definition, visitor);
  }
  for (const variable of badDefaults) found.add(usedAs.get(variable) ?? variable);
  const facts = { literal: [...found], usedAs };
  factsOf.set(operation, facts);
  return facts;
}

/** Names of the arguments and input fields whose strings hold a NUL, in document order, each once. */
export function fieldsHoldingNul(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): string[] {
  const { literal, usedAs } = operationFacts(document, operation);
  const found = new Set(literal);

  // Variables as sent (JSON): walked breadth-first without recursion, so nesting depth cannot overflow the stack.
  const declared = (operation.variableDefinitions ?? []).map((d) => d.variable.name.value);
  const queue: Array<{ value: unknown; field: string }> = declared
    .filter((name) => Object.prototype.hasOwnProperty.call(variables, name))
    .map((name) => ({ value: variables[name], field: usedAs.get(name) ?? name }));
  for (let i = 0; i < queue.length; i++) {
    const { value, field } = queue[i];
    if (typeof value === 'string') {
      if (value.includes(NUL)) found.add(field);
    } else if (Array.isArray(value)) {
      for (const item of value) queue.push({ value: item, field });
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) queue.push({ value: item, field: key });
    }
  }
  return [...found];
}
