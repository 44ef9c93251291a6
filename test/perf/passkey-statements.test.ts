import { counted } from './statement-counter';
import { registerAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { isolated } from '../abuse/abuse.helpers';
import { addPasskey, browser, OP, PASSKEY_ENV, sender, startLogin } from '../passkeys/passkeys.helpers';

/**
 * Database work of a passwordless passkey sign-in (issue #14): the ceremony spent with the
 * credential and account read in one statement, the counter in a second, the session and audit rows
 * in the pipeline's one statement, and the throttle's begin and settle. It was 10 statements in a
 * transaction. Counted in the service's own process, one request at a time (never timed).
 */
const FINISH_BUDGET = 5;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(isolated(PASSKEY_ENV));
});
afterAll(() => server?.stop());

describe('statements per passkey sign-in (PostgreSQL counters)', () => {
  test(`finishPasskeyLogin opens a session in at most ${FINISH_BUDGET} statements, no transaction`, async () => {
    const account = await registerAccount(server);
    const authenticator = browser();
    await addPasskey(server, account, authenticator);
    const { challengeId, options } = await startLogin(sender(server));
    const response = authenticator.assert(options);
    const { result, pg } = await counted(() => server.gql(OP.finishLogin, { challengeId, response }));
    expect(result.data?.finishPasskeyLogin.user.id).toBe(account.id);
    expect(pg.length).toBeLessThanOrEqual(FINISH_BUDGET);
    expect(pg).not.toContain('START TRANSACTION');
  });

  test('a replayed ceremony is refused on the same first statement (the ceremony was spent by the first finish)', async () => {
    const account = await registerAccount(server);
    const authenticator = browser();
    await addPasskey(server, account, authenticator);
    const { challengeId, options } = await startLogin(sender(server));
    const response = authenticator.assert(options);
    const first = await server.gql(OP.finishLogin, { challengeId, response });
    expect(first.data?.finishPasskeyLogin.user.id).toBe(account.id);
    const { result: replay, pg } = await counted(() => server.gql(OP.finishLogin, { challengeId, response }));
    expect(codeOf(replay)).toBe('PASSKEY_REJECTED');
    expect(pg).toContain('passkey_take_sign_in');
    expect(pg).not.toContain('passkey_counter');
  });
});
