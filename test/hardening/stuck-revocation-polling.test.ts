import { RevocationWatcher } from '../../src/sessions/revocation-watcher';
import { isolated, login } from '../abuse/abuse.helpers';
import { registerAccount } from '../support/accounts';
import { operation } from '../support/operations';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { sleep } from '../support/time';

/**
 * Threat: an instance that can no longer read revocations (a stuck poll, a lost connection to the
 * database) keeps serving tokens that were revoked elsewhere. Past the staleness bound (4 s, so the
 * 5-second promise holds) it must answer guarded calls with SERVICE_UNAVAILABLE, never the data.
 */
const ME = operation('Me');
const LOGOUT = operation('Logout');
const STALE_AFTER_MS = 4000;

let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  const env = isolated({ REVOCATION_POLL_MS: '500' });
  [a, b] = await Promise.all([startTestServer(env), startTestServer(env)]);
});
afterAll(() => Promise.all([a?.stop(), b?.stop()]));

test('an instance whose revocation polling is stuck refuses guarded calls', async () => {
  const account = await registerAccount(a);
  const token = (await login(a, account.email, account.password)).data!.login.accessToken as string;
  const bystander = await registerAccount(a);
  // Positive control: both instances serve the live token while polling.
  expect((await b.gql(ME, {}, token)).data?.me?.id).toBe(account.id);

  b.running.container.get(RevocationWatcher).stop(); // b's poll is stuck from here on
  expect((await a.gql(LOGOUT, {}, token)).data).toEqual({ logout: true });
  await sleep(STALE_AFTER_MS + 1000);

  const stuck = await b.gql(ME, {}, token);
  expect({ code: codeOf(stuck), me: stuck.data?.me ?? null }).toEqual({ code: 'SERVICE_UNAVAILABLE', me: null });
  // Positive control: the instance that still polls refuses the revoked token and serves a live one.
  expect(codeOf(await a.gql(ME, {}, token))).toBe('UNAUTHENTICATED');
  expect((await a.gql(ME, {}, bystander.accessToken)).data?.me?.id).toBe(bystander.id);
});
