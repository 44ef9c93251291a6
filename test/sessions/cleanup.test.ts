import { CleanupService } from '../../src/maintenance/cleanup.service';
import { registerAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { sidOf as sid } from '../support/tokens';

const REFRESH = 'mutation($r: String!) { refreshToken(refreshToken: $r) { refreshToken } }';
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());


test('prunes old retired refresh tokens and long-ended sessions, and leaves live ones working', async () => {
  const db = server.running.services.dataSource;
  // Older than the retention of a day the test server's jobs use.
  const live = await registerAccount(server);
  const r1 = (await server.gql(REFRESH, { r: live.refreshToken })).data!.refreshToken.refreshToken;
  const r2 = (await server.gql(REFRESH, { r: r1 })).data!.refreshToken.refreshToken;
  // Created before they were retired, as every retired token was.
  await db.query(
    `UPDATE refresh_tokens SET created_at = now() - interval '401 days', retired_at = now() - interval '400 days' WHERE session_id = $1 AND retired_at IS NOT NULL`,
    [sid(live.accessToken)],
  );
  const ended = await registerAccount(server);
  await db.query(`UPDATE sessions SET revoked_at = now() - interval '400 days' WHERE id = $1`, [sid(ended.accessToken)]);

  const cleanup = server.running.container.get(CleanupService);
  const removed = await cleanup.runOnce();
  expect(removed!.refreshTokens).toBeGreaterThanOrEqual(2);
  expect(removed!.sessions).toBeGreaterThanOrEqual(1);

  const left: Array<{ session_id: string; n: string }> = await db.query(
    `SELECT session_id, count(*) AS n FROM refresh_tokens WHERE session_id = ANY($1) GROUP BY session_id`,
    [[sid(live.accessToken), sid(ended.accessToken)]],
  );
  expect(left).toEqual([{ session_id: sid(live.accessToken), n: '1' }]);
  expect((await server.gql(REFRESH, { r: r2 })).errors).toBeUndefined();
  // A pruned token is merely unknown now: refused, without revoking the live session.
  expect(codeOf(await server.gql(REFRESH, { r: live.refreshToken }))).toBe('INVALID_TOKEN');
});

test('only one instance prunes at a time', async () => {
  const db = server.running.services.dataSource;
  const runner = db.createQueryRunner();
  await runner.connect();
  await runner.query('SELECT pg_advisory_lock(7240192)');
  try {
    const cleanup = server.running.container.get(CleanupService);
    expect(await cleanup.runOnce()).toBeNull();
  } finally {
    await runner.query('SELECT pg_advisory_unlock(7240192)');
    await runner.release();
  }
});
