import { registerAccount } from '../support/accounts';
import { startTestServer, type TestServer } from '../support/test-server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

test('me returns the registered account', async () => {
  const account = await registerAccount(server);
  const res = await server.gql('{ me { id email } }', {}, account.accessToken);
  expect(res.data?.me).toEqual({ id: account.id, email: account.email });
});
