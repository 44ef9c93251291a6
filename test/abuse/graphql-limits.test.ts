import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { getIntrospectionQuery, parse, specifiedRules, validate, type GraphQLSchema } from 'graphql';
import { graphqlDocumentLimits } from '../../src/abuse/graphql-limits';
import { loadConfig } from '../../src/app/config';
import { buildBouncerSchema } from '../../src/schema/build-schema';
import { registerAccount } from '../support/accounts';
import { codeOf, startTestServer, testEnv, type TestServer } from '../support/test-server';
import { isolated, login } from './abuse.helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(isolated());
});
afterAll(() => server.stop());

/** `{ __type(name: "User") { fields { type { ofType { ... } } } } }` exactly `depth` fields deep. */
function introspectionOfDepth(depth: number): string {
  let inner = 'name';
  for (let level = depth; level > 4; level--) inner = `ofType { ${inner} }`;
  return `{ __type(name: "User") { fields { type { ${inner} } } } }`;
}

describe('query depth (15, introspection fields included)', () => {
  test('lets the standard introspection query through', async () => {
    const res = await server.gql(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }));
    expect(res.errors).toBeUndefined();
    expect(res.data?.__schema.types.length).toBeGreaterThan(5);
  });

  test('refuses a 30-level introspection query (nested ofType bomb)', async () => {
    let inner = 'name';
    for (let i = 0; i < 26; i++) inner = `ofType { ${inner} }`;
    const res = await server.gql(`{ __schema { types { fields { type { ${inner} } } } } }`);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.data).toBeUndefined();
  });

  test('allows depth 15 and refuses depth 16', async () => {
    expect((await server.gql(introspectionOfDepth(15))).errors).toBeUndefined();
    expect(codeOf(await server.gql(introspectionOfDepth(16)))).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  test('counts depth through fragments: splitting a deep query into fragments does not hide it', async () => {
    let fragments = 'fragment F0 on __Type { name }';
    for (let i = 1; i <= 14; i++) fragments += ` fragment F${i} on __Type { ofType { ...F${i - 1} } }`;
    const res = await server.gql(`{ __type(name: "User") { fields { type { ...F14 } } } } ${fragments}`);
    expect(codeOf(res)).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('aliases (15)', () => {
  const aliased = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(' ')} }`;

  test('refuses 16 aliases', async () => {
    const res = await server.gql(aliased(16));
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  test('lets 15 aliases through to execution', async () => {
    expect(codeOf(await server.gql(aliased(15)))).toBe('UNAUTHENTICATED');
  });
});

describe('tokens (2,000)', () => {
  test('stops parsing a document of more than 2,000 tokens', async () => {
    const res = await server.gql(`{ me { ${'id '.repeat(2100)} } }`);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('GRAPHQL_PARSE_FAILED');
  });

  test('parses a document just under the limit', async () => {
    const res = await server.gql(`{ me { ${'id '.repeat(1900)} } }`);
    // graphql-js may still refuse 1,900 copies of one field when validating; parsing is what is checked here.
    expect(codeOf(res)).not.toBe('GRAPHQL_PARSE_FAILED');
    const { parseOptions } = graphqlDocumentLimits(loadConfig(testEnv()).limits);
    const ofTokens = (n: number) => `{ me { ${'id '.repeat(n - 5)} } }`; // "{ me {" and "} }" are 5 tokens
    expect(() => parse(ofTokens(2000), parseOptions)).not.toThrow();
    expect(() => parse(ofTokens(2001), parseOptions)).toThrow(/2000 tokens/);
  });
});

describe('directives (50)', () => {
  test('refuses a document with more than 50 directives', async () => {
    const res = await server.gql(`{ ${'__typename @include(if: true) '.repeat(51)} }`);
    expect(codeOf(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0].message).toMatch(/Directives limit/);
  });

  test('accepts 50', async () => {
    expect((await server.gql(`{ ${'__typename @include(if: true) '.repeat(50)} }`)).errors).toBeUndefined();
  });
});

describe('cost (5,000)', () => {
  const page = (alias: string, first: number) =>
    `${alias}: users(first: ${first}) { nodes { id email username roles createdAt } pageInfo { endCursor hasNextPage } totalCount }`;

  test('refuses a document that fans out into too many list items (aliased full pages)', async () => {
    const res = await server.gql(`{ ${['a', 'b', 'c', 'd', 'e', 'f'].map((a) => page(a, 100)).join(' ')} }`);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0].message).toMatch(/cost/i);
  });

  test('prices a page size above 100 as 100, so users(first: 1000) reaches its resolver (BAD_USER_INPUT there)', async () => {
    // Without a token the resolver's guard answers: the point is that validation did not refuse it.
    expect(codeOf(await server.gql(`{ ${page('a', 1000)} }`))).toBe('UNAUTHENTICATED');
  });

  test('prices fragment fan-out without expanding it (fragment bomb)', async () => {
    let fragments = 'fragment B0 on User { id email }';
    for (let i = 1; i <= 12; i++) fragments += ` fragment B${i} on User { ...B${i - 1} x${i}: id ...B${i - 1} }`;
    const started = Date.now();
    const res = await server.gql(`{ users(first: 100) { nodes { ...B12 } } } ${fragments}`);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res.status).toBe(400);
  });

  test("every operation the project ships for clients passes all limits with room to spare", async () => {
    const schema: GraphQLSchema = await buildBouncerSchema();
    const limits = graphqlDocumentLimits(loadConfig(testEnv()).limits);
    const folder = join(process.cwd(), 'schema', 'operations');
    const files = readdirSync(folder).filter((f) => f.endsWith('.graphql'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const document = parse(readFileSync(join(folder, file), 'utf8'), limits.parseOptions);
      expect(validate(schema, document, [...specifiedRules, ...limits.validationRules])).toEqual([]);
    }
    // The contract's own operations also pass with half the default limits.
    const half = graphqlDocumentLimits(loadConfig(testEnv({ GRAPHQL_MAX_DEPTH: '8', GRAPHQL_MAX_COST: '2500', GRAPHQL_MAX_TOKENS: '1000' })).limits);
    for (const file of files) {
      const document = parse(readFileSync(join(folder, file), 'utf8'), half.parseOptions);
      expect(validate(schema, document, [...specifiedRules, ...half.validationRules])).toEqual([]);
    }
  });
});

describe('request bodies', () => {
  test('refuses JSON-array batches', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  /** Raw POST so a refused upload can be observed even when the server closes mid-body. */
  function postRaw(body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; text: string; ms: number }> {
    const started = Date.now();
    const url = new URL(server.url);
    return new Promise((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ms: Date.now() - started }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  test('refuses a 2 MB body fast, and the service stays healthy', async () => {
    const res = await postRaw(Buffer.alloc(2 * 1024 * 1024, 'a'));
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text).errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(res.ms).toBeLessThan(1000);
    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
  });

  test('refuses a 1 MB password before any hashing, and the service stays healthy', async () => {
    const account = await registerAccount(server);
    const body = Buffer.from(
      JSON.stringify({ query: 'mutation($i: LoginInput!) { login(input: $i) { __typename } }', variables: { i: { identifier: account.email, password: 'p'.repeat(1024 * 1024) } } }),
    );
    const res = await postRaw(body);
    expect(res.status).toBe(413);
    expect(res.ms).toBeLessThan(1000);
    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
    // Nothing was counted against the account.
    expect((await login(server, account.email, account.password)).data?.login.__typename).toBe('AuthPayload');
  });

  test('refuses a long password that fits in the body cap without hashing it (INVALID_CREDENTIALS, fast)', async () => {
    const account = await registerAccount(server);
    const started = Date.now();
    const res = await login(server, account.email, 'p'.repeat(90 * 1024));
    expect(codeOf(res)).toBe('INVALID_CREDENTIALS');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('refuses a body that lies about its length once it passes the cap', async () => {
    // Chunked upload: no content-length to refuse up front, so the reader must stop at the cap.
    const url = new URL(server.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 'a');
      for (let i = 0; i < 4; i++) req.write(chunk);
      req.end();
    });
    expect(status).toBe(413);
    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
  });
});
