import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printBouncerSchema } from './build-schema';

/** `npm run schema`: writes schema/schema.graphql (with directives) for clients and code generators. */
async function main(): Promise<void> {
  const dir = join(process.cwd(), 'schema');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'schema.graphql');
  writeFileSync(path, await printBouncerSchema());
  process.stdout.write(`wrote ${path}\n`);
}

void main();
