import { isolated } from '../abuse/abuse.helpers';
import { registerAccount, type TestAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';

/**
 * Threat: one cheap-looking request that makes the service read and serialise megabytes. `sessions`
 * has no page size and used to cost 1 in the query cost rule, whatever it selects: 15 aliased
 * `sessions` lists of 2,000 sessions each came back as 6.7 MB. The list is now priced as the most
 * entries it can hold (100), times what each entry selects.
 */
const FIELDS = 'id createdAt lastUsedAt expiresAt userAgent ipAddress current';
const ALIASES = 15; // GRAPHQL_MAX_ALIASES: the alias rule lets these through
const aliased = `{ ${Array.from({ length: ALIASES }, (_, i) => `s${i}: sessions { ${FIELDS} }`).join(' ')} }`;
const single = `{ sessions { ${FIELDS} } }`;

let server: TestServer;
let account: TestAccount;

beforeAll(async () => {
  server = await startTestServer(isolated());
  account = await registerAccount(server);
  // A full account: 99 more live sessions (the cap is 100), written as an attacker's logins would.
  await server.running.services.dataSource.query(
    `INSERT INTO sessions (user_id, expires_at, user_agent, ip_address)
     SELECT $1, now() + interval '30 days', repeat('Mozilla/5.0 ', 40), '203.0.113.7' FROM generate_series(1, 99)`,
    [account.id],
  );
});
afterAll(() => server.stop());

test(`${ALIASES} aliased sessions lists are refused by the cost limit before anything runs`, async () => {
  const res = await server.gql(aliased, {}, account.accessToken);
  expect({ status: res.status, code: codeOf(res), bytes: JSON.stringify(res.data ?? null).length }).toEqual({
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    bytes: 4, // "null"
  });
  expect(res.errors![0].message).toMatch(/cost/i);
});

test('a single sessions list passes (positive control)', async () => {
  const res = await server.gql(single, {}, account.accessToken);
  expect(res.errors).toBeUndefined();
  expect(res.data!.sessions).toHaveLength(100);
});
