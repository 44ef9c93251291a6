import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { isolated } from '../abuse/abuse.helpers';

/**
 * Threat: the alias limit (15, CONTRACT.md: "whatever they name") did not count aliases of
 * `__typename` or other introspection fields, so one request could still ask for hundreds of
 * fields under aliases.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(isolated());
});
afterAll(() => server.stop());

const aliases = (n: number, field: string, prefix = 'a') => Array.from({ length: n }, (_, i) => `${prefix}${i}: ${field}`).join(' ');

test('500 aliased __typename fields are refused before execution', async () => {
  const res = await server.gql(`{ ${aliases(500, '__typename')} }`);
  expect(res.status).toBe(400);
  expect(codeOf(res)).toBe('GRAPHQL_VALIDATION_FAILED');
  expect(res.data).toBeUndefined();
});

test.each([
  ['__typename at the root', (n: number) => `{ ${aliases(n, '__typename')} }`],
  ['__typename inside a field', (n: number) => `{ me { ${aliases(n, '__typename')} } }`],
  ['__schema introspection', (n: number) => `{ ${aliases(n, '__schema { queryType { name } }')} }`],
  ['__typename aliases half in a fragment', (n: number) => `{ ${aliases(n - 8, '__typename', 'r')} ...F } fragment F on Query { ${aliases(8, '__typename', 'f')} }`],
  ['aliases that are themselves named __typename', (n: number) => `{ __typename: me { id } ${aliases(n - 1, 'me { id }')} }`],
  ['aliases of ordinary fields', (n: number) => `{ ${aliases(n, 'me { id }')} }`],
])('%s: 16 are refused, 15 pass (positive control)', async (_name, document) => {
  const refused = await server.gql(document(16));
  expect({ status: refused.status, code: codeOf(refused) }).toEqual({ status: 400, code: 'GRAPHQL_VALIDATION_FAILED' });
  const allowed = await server.gql(document(15));
  expect(codeOf(allowed)).not.toBe('GRAPHQL_VALIDATION_FAILED');
});
