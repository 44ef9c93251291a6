import { isolated, login } from '../abuse/abuse.helpers';
import { registerAccount } from '../support/accounts';
import { operation } from '../support/operations';
import { startTestServer, type TestServer } from '../support/test-server';
import { claimsOf } from '../support/tokens';

/**
 * Threat: a session that has ended still opens doors, because an access token issued near its end
 * lives for the full access-token lifetime past it. Here a session lasts 60 s and a token 15 min:
 * every token must end with its session.
 */
const REFRESH = operation('RefreshToken');
const SESSION_SECONDS = 60;
const TTL_SECONDS = 900;

let short: TestServer;
let normal: TestServer;

beforeAll(async () => {
  [short, normal] = await Promise.all([
    startTestServer(isolated({ SESSION_IDLE_SECONDS: String(SESSION_SECONDS), SESSION_ABSOLUTE_SECONDS: String(SESSION_SECONDS), ACCESS_TOKEN_TTL_SECONDS: String(TTL_SECONDS) })),
    startTestServer(isolated({ ACCESS_TOKEN_TTL_SECONDS: String(TTL_SECONDS) })),
  ]);
});
afterAll(() => Promise.all([short?.stop(), normal?.stop()]));

const claims = (token: string): { sid: string; iat: number; exp: number } => claimsOf(token) as { sid: string; iat: number; exp: number };

async function sessionEnd(server: TestServer, sid: string): Promise<number> {
  const rows: Array<{ expires_at: Date }> = await server.running.services.dataSource.query('SELECT expires_at FROM sessions WHERE id = $1', [sid]);
  return Math.floor(rows[0].expires_at.getTime() / 1000);
}

test('an access token never outlives its session (register, login and refresh)', async () => {
  const account = await registerAccount(short);
  const signedIn = await login(short, account.email, account.password);
  const refreshed = await short.gql(REFRESH, { refreshToken: signedIn.data!.login.refreshToken });
  const payloads = [
    { accessToken: account.accessToken },
    signedIn.data!.login,
    refreshed.data!.refreshToken,
  ] as Array<{ accessToken: string; expiresIn?: number }>;
  // login and refresh answer with expiresIn; without this the check in the loop could pass by never running.
  expect(payloads.map((p) => typeof p.expiresIn)).toEqual(['undefined', 'number', 'number']);
  for (const payload of payloads) {
    const { sid, exp } = claims(payload.accessToken);
    expect(exp).toBeLessThanOrEqual(await sessionEnd(short, sid));
    if (payload.expiresIn !== undefined) expect(payload.expiresIn).toBeLessThanOrEqual(SESSION_SECONDS);
  }
});

test('a token of a long session gets the whole access-token lifetime (positive control)', async () => {
  const account = await registerAccount(normal);
  const { sid, iat, exp } = claims(account.accessToken);
  expect(exp - iat).toBe(TTL_SECONDS);
  expect(exp).toBeLessThan(await sessionEnd(normal, sid));
});
