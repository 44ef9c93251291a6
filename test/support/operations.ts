import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse, print, visit, type DefinitionNode, type FragmentDefinitionNode } from 'graphql';

const DIR = join(__dirname, '..', '..', 'schema', 'operations');
let definitions: DefinitionNode[] | undefined;

function all(): DefinitionNode[] {
  definitions ??= readdirSync(DIR)
    .sort()
    .filter((f) => f.endsWith('.graphql'))
    .flatMap((f) => parse(readFileSync(join(DIR, f), 'utf8')).definitions);
  return definitions;
}

function fragmentsUsedBy(node: DefinitionNode, seen = new Set<string>()): FragmentDefinitionNode[] {
  const out: FragmentDefinitionNode[] = [];
  visit(node, {
    FragmentSpread(spread) {
      const name = spread.name.value;
      if (seen.has(name)) return;
      seen.add(name);
      const fragment = all().find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === name) as FragmentDefinitionNode;
      out.push(fragment, ...fragmentsUsedBy(fragment, seen));
    },
  });
  return out;
}

/** A named operation of schema/operations/*.graphql with the fragments it uses: what a client would send. */
export function operation(name: string): string {
  const op = all().find((d) => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === name);
  if (!op) throw new Error(`no operation ${name} in schema/operations`);
  return [op, ...fragmentsUsedBy(op)].map((d) => print(d)).join('\n\n');
}
