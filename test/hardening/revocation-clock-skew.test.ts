import type { Container } from '../../src/app/container';
import { Sql } from '../../src/db/sql';
import { isolated, login } from '../abuse/abuse.helpers';
import { registerAccount } from '../support/accounts';
import { operation } from '../support/operations';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { pollUntil, sleep } from '../support/time';
import { claimsOf } from '../support/tokens';
import { RevocationWatcher } from '../../src/sessions/revocation-watcher';

/**
 * Threat: a logged-out access token works again on an instance whose clock runs ahead of the
 * database's. Revocations carried the database's time but were pruned by the instance's clock:
 * `skew` seconds ahead, an entry was dropped `skew` seconds before the last token it must refuse
 * had expired. Short tokens (30 s, the least allowed) keep the wait to half a minute.
 */
const ME = operation('Me');
const LOGOUT = operation('Logout');
const TTL_SECONDS = 30;
const SKEW_MS = 10_000;
const POLL_MS = 500;
const HORIZON_SECONDS = TTL_SECONDS + 10; // as src/app/kernel.ts: the lifetime plus twice the 5 s clock tolerance

let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  const env = isolated({ ACCESS_TOKEN_TTL_SECONDS: String(TTL_SECONDS), REVOCATION_POLL_MS: String(POLL_MS) });
  // Instance b's revocation view runs on a clock 10 s ahead of the database (and of a).
  const skewed = (c: Container) =>
    c.replace(RevocationWatcher, new RevocationWatcher(c.get(Sql), { pollMs: POLL_MS, horizonSeconds: HORIZON_SECONDS, clock: () => Date.now() + SKEW_MS }));
  [a, b] = await Promise.all([startTestServer(env), startTestServer(env, { override: skewed })]);
});
afterAll(() => Promise.all([a?.stop(), b?.stop()]));

test('a session logged out while an instance runs 10 s ahead of the database stays refused there until its token expires', async () => {
  const victim = await registerAccount(a);
  const bystander = await registerAccount(a);
  const signedIn = await login(a, victim.email, victim.password);
  const token = signedIn.data!.login.accessToken as string;
  const exp = claimsOf(token).exp as number;

  // Positive control: the skewed instance serves live tokens.
  expect((await b.gql(ME, {}, token)).data?.me?.id).toBe(victim.id);
  expect((await b.gql(ME, {}, bystander.accessToken)).data?.me?.id).toBe(bystander.id);

  expect((await a.gql(LOGOUT, {}, token)).data).toEqual({ logout: true });
  const loggedOut = Date.now();
  const refused = await pollUntil(async () => codeOf(await b.gql(ME, {}, token)), (code) => code === 'UNAUTHENTICATED', { timeoutMs: 5000 });
  expect(refused.value).toBe('UNAUTHENTICATED');

  // Past horizon - skew after the logout (where a database-time entry pruned by the instance's
  // clock is gone), before the token's expiry plus the 5 s verification tolerance.
  await sleep(Math.max(0, loggedOut + (HORIZON_SECONDS * 1000 - SKEW_MS) + POLL_MS + 1000 - Date.now()));
  expect(Date.now()).toBeLessThan(exp * 1000 + 4000);
  const late = await b.gql(ME, {}, token);
  const control = await b.gql(ME, {}, bystander.accessToken);
  expect({ code: codeOf(late), me: late.data?.me ?? null }).toEqual({ code: 'UNAUTHENTICATED', me: null });
  // Positive control: the instance still serves a token that was never revoked, issued just as early.
  expect(control.data?.me?.id).toBe(bystander.id);
}, 60_000);
