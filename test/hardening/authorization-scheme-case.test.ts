import { registerAccount, type TestAccount } from '../support/accounts';
import { operation } from '../support/operations';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { isolated } from '../abuse/abuse.helpers';

/**
 * Threat (interoperability): RFC 9110 §11.1 makes the authentication scheme case-insensitive, so
 * clients and proxies that send `bearer <token>` were refused while the token was valid. The
 * scheme's case must not matter; anything else than a well-formed Bearer credential still must.
 */
const ME = operation('Me');

let server: TestServer;
let account: TestAccount;
beforeAll(async () => {
  server = await startTestServer(isolated());
  account = await registerAccount(server);
});
afterAll(() => server.stop());

const meWith = (authorization: string) => server.gql(ME, {}, undefined, { authorization });

test.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('the scheme "%s" is accepted', async (scheme) => {
  const res = await meWith(`${scheme} ${account.accessToken}`);
  expect(res.errors).toBeUndefined();
  expect(res.data?.me.email).toBe(account.email);
});

test.each([
  ['another scheme', (t: string) => `Basic ${t}`],
  ['a scheme that only starts like Bearer', (t: string) => `Bearerx ${t}`],
  ['no space between scheme and token', (t: string) => `bearer${t}`],
  ['no scheme', (t: string) => t],
  ['two tokens', (t: string) => `bearer ${t} ${t}`],
  ['a tampered token', (t: string) => `bearer ${t}x`],
])('negative control: %s is UNAUTHENTICATED', async (_name, header) => {
  expect(codeOf(await meWith(header(account.accessToken)))).toBe('UNAUTHENTICATED');
});
