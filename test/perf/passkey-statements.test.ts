import { counted } from './statement-counter';
import { registerAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { isolated } from '../abuse/abuse.helpers';
import { addPasskey, browser, OP, PASSKEY_ENV, passwordStep, sender, startLogin, startSecondFactor } from '../passkeys/passkeys.helpers';
import { enrol } from '../two-factor/two-factor.helpers';

/**
 * Database work of a passwordless passkey sign-in (issue #14): the ceremony spent with the
 * credential and account read in one statement, the counter in a second, the session and audit rows
 * in the pipeline's one statement, and the throttle's begin and settle. It was 10 statements in a
 * transaction. Counted in the service's own process, one request at a time (never timed).
 */
const FINISH_BUDGET = 5;

/** The second step (verifyTwoFactorPasskey): the challenge's read (with its ceremony and credential) and the step's one write. */
const SECOND_STEP_BUDGET = 2;

let server: TestServer;
/** One session per account: every second step there opens at the cap, the slow path's case. */
let atCap: TestServer;
beforeAll(async () => {
  server = await startTestServer(isolated(PASSKEY_ENV));
  atCap = await startTestServer(isolated({ ...PASSKEY_ENV, SESSION_MAX_PER_USER: '1' }));
});
afterAll(async () => {
  await server?.stop();
  await atCap?.stop();
});

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

describe('statements per passkey second step (PostgreSQL counters)', () => {
  async function passkeySecondStep(on: TestServer) {
    const account = await registerAccount(on);
    await enrol(on, account);
    const authenticator = browser();
    await addPasskey(on, account, authenticator);
    const { challengeToken, methods } = await passwordStep(on, account);
    expect(methods).toContain('PASSKEY');
    const { challengeId, options } = await startSecondFactor(on, challengeToken);
    return { account, variables: { challengeToken, challengeId, response: authenticator.assert(options) } };
  }

  test(`verifyTwoFactorPasskey opens the session in at most ${SECOND_STEP_BUDGET} statements, no transaction; the same ceremony again is refused`, async () => {
    const { account, variables } = await passkeySecondStep(server);
    const { result, pg } = await counted(() => server.gql(OP.verifySecondFactor, variables));
    expect(result.data?.verifyTwoFactorPasskey.user.id).toBe(account.id);
    expect(pg.length).toBeLessThanOrEqual(SECOND_STEP_BUDGET);
    expect(pg).not.toContain('START TRANSACTION');
    expect(codeOf(await server.gql(OP.verifySecondFactor, variables))).toMatch(/^(INVALID_TOKEN|PASSKEY_REJECTED)$/);
  });

  test('at the session cap the step goes the slow way (the fast statement spent neither the ceremony nor the counter)', async () => {
    const { account, variables } = await passkeySecondStep(atCap);
    const { result, pg } = await counted(() => atCap.gql(OP.verifySecondFactor, variables));
    expect(result.errors).toBeUndefined();
    expect(result.data?.verifyTwoFactorPasskey.user.id).toBe(account.id);
    expect(pg).toContain('START TRANSACTION'); // the trimming transaction: the fast statement wrote nothing
    const live = await atCap.running.services.dataSource.query('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL', [account.id]);
    expect(live[0].n).toBe(1);
  });
});
