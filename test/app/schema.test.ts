import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { readdirSync } from 'node:fs';
import { printBouncerSchema } from '../../src/schema/build-schema';
import { openDataSource } from '../../src/app/database';
import { runMigrations } from '../../src/db/migrate';

const root = join(__dirname, '..', '..');

test('schema/schema.graphql is what the resolvers print now (run `npm run schema` when this fails)', async () => {
  const checkedIn = readFileSync(join(root, 'schema', 'schema.graphql'), 'utf8');
  expect(checkedIn).toBe(await printBouncerSchema());
});

test('the SDL prints every guard as @auth, declared with requires: [Role!]', async () => {
  const sdl = await printBouncerSchema();
  expect(sdl).toContain('directive @auth(requires: [Role!]) on FIELD_DEFINITION | OBJECT');
  expect(sdl).toMatch(/me: User! @auth\n/);
  expect(sdl).toMatch(/users\(.*\): UserConnection! @auth\(requires: \[ADMIN\]\)/);
});

test('every client operation in schema/operations validates against the schema', async () => {
  const schema = buildSchema(readFileSync(join(root, 'schema', 'schema.graphql'), 'utf8'));
  const dir = join(root, 'schema', 'operations');
  const files = readdirSync(dir).filter((f) => f.endsWith('.graphql'));
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) {
    const errors = validate(schema, parse(readFileSync(join(dir, file), 'utf8')));
    expect({ file, errors: errors.map((e) => e.message) }).toEqual({ file, errors: [] });
  }
});

test('the entities and the migrations describe the same database (nothing for migration:generate to add)', async () => {
  const dataSource = openDataSource({ url: process.env.TEST_DATABASE_URL!, poolSize: 2, connectTimeoutMs: 3000 });
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  } finally {
    await dataSource.destroy();
  }
});
