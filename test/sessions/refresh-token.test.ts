import { sha256Hex } from '../../src/crypto/random';
import { LOGIN, registerAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { sleep } from '../support/time';
import { claimsOf as claims } from '../support/tokens';

const REFRESH = 'mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken refreshToken expiresIn tokenType user { id } } }';
const ME = '{ me { id } }';
const GRACE_SECONDS = 1;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ REFRESH_REUSE_GRACE_SECONDS: String(GRACE_SECONDS) });
});
afterAll(() => server.stop());

const refresh = (token: string) => server.gql(REFRESH, { r: token });

test('rotates the refresh token on every use and keeps the session id', async () => {
  const account = await registerAccount(server);
  const first = await refresh(account.refreshToken);
  expect(first.errors).toBeUndefined();
  const payload = first.data!.refreshToken;
  expect(payload.refreshToken).not.toBe(account.refreshToken);
  expect(payload.tokenType).toBe('Bearer');
  expect(claims(payload.accessToken).sid).toBe(claims(account.accessToken).sid);
  const second = await refresh(payload.refreshToken);
  expect(second.data!.refreshToken.refreshToken).not.toBe(payload.refreshToken);
});

test('stores refresh tokens only as SHA-256 hashes, never in plain text', async () => {
  const account = await registerAccount(server);
  const rotated = (await refresh(account.refreshToken)).data!.refreshToken.refreshToken;
  const sid = claims(account.accessToken).sid;
  const rows: Array<{ row: string; token_hash: string }> = await server.running.services.dataSource.query(
    `SELECT rt::text AS row, token_hash FROM refresh_tokens rt WHERE session_id = $1`,
    [sid],
  );
  expect(rows.map((r) => r.token_hash).sort()).toEqual([sha256Hex(account.refreshToken), sha256Hex(rotated)].sort());
  for (const r of rows) {
    expect(r.row).not.toContain(account.refreshToken);
    expect(r.row).not.toContain(rotated);
  }
});

test('a session keeps one grace copy at most, on its current token: retiring a token clears the copy it held', async () => {
  const account = await registerAccount(server);
  const sid = claims(account.accessToken).sid;
  const copies = async (): Promise<Array<{ token_hash: string; retired: boolean }>> =>
    server.running.services.dataSource.query(`SELECT token_hash, retired_at IS NOT NULL AS retired FROM refresh_tokens WHERE session_id = $1 AND grace_enc IS NOT NULL`, [sid]);
  // Positive control: the first token of a session has no predecessor, hence no copy.
  expect(await copies()).toEqual([]);
  let token = account.refreshToken;
  for (let i = 0; i < 3; i++) {
    token = (await refresh(token)).data!.refreshToken.refreshToken;
    expect(await copies()).toEqual([{ token_hash: sha256Hex(token), retired: false }]);
  }
});

test('two tabs refreshing at once with one token both get the same new token and the session lives on', async () => {
  const account = await registerAccount(server);
  const results = await Promise.all([refresh(account.refreshToken), refresh(account.refreshToken), refresh(account.refreshToken)]);
  for (const r of results) expect(r.errors).toBeUndefined();
  const tokens = new Set(results.map((r) => r.data!.refreshToken.refreshToken));
  expect(tokens.size).toBe(1);
  const [next] = tokens;
  const after = await refresh(next);
  expect(after.errors).toBeUndefined();
  expect((await server.gql(ME, {}, after.data!.refreshToken.accessToken)).data?.me).toEqual({ id: account.id });
});

test('rejects a reused refresh token after the grace window and revokes the whole session', async () => {
  const account = await registerAccount(server);
  const rotated = (await refresh(account.refreshToken)).data!.refreshToken;
  await sleep(GRACE_SECONDS * 1000 + 300);

  const reuse = await refresh(account.refreshToken);
  expect(codeOf(reuse)).toBe('INVALID_TOKEN');
  // The thief's replay ends the legitimate holder's session too: both must sign in again.
  expect(codeOf(await refresh(rotated.refreshToken))).toBe('INVALID_TOKEN');
  expect(codeOf(await server.gql(ME, {}, rotated.accessToken))).toBe('UNAUTHENTICATED');
  const audit: Array<{ type: string }> = await server.running.services.dataSource.query(
    `SELECT type FROM audit_events WHERE user_id = $1 AND type IN ('session.refresh_token_reused', 'session.revoked')`,
    [account.id],
  );
  expect(audit.map((a) => a.type).sort()).toEqual(['session.refresh_token_reused', 'session.revoked']);
});

test('rejects an unknown, empty or oversized refresh token with INVALID_TOKEN', async () => {
  expect(codeOf(await refresh('definitely-not-issued'))).toBe('INVALID_TOKEN');
  expect(codeOf(await refresh(''))).toBe('INVALID_TOKEN');
  expect(codeOf(await refresh('x'.repeat(10_000)))).toBe('INVALID_TOKEN');
});

test('ends a session after its idle limit', async () => {
  const account = await registerAccount(server);
  const sid = claims(account.accessToken).sid;
  await server.running.services.dataSource.query(`UPDATE sessions SET last_used_at = now() - interval '31 days' WHERE id = $1`, [sid]);
  expect(codeOf(await refresh(account.refreshToken))).toBe('INVALID_TOKEN');
});

test('ends a session at its absolute limit even when used every day', async () => {
  const account = await registerAccount(server);
  const sid = claims(account.accessToken).sid;
  await server.running.services.dataSource.query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [sid]);
  expect(codeOf(await refresh(account.refreshToken))).toBe('INVALID_TOKEN');
});

test('a refresh after logout is refused', async () => {
  const account = await registerAccount(server);
  await server.gql('mutation { logout }', {}, account.accessToken);
  expect(codeOf(await refresh(account.refreshToken))).toBe('INVALID_TOKEN');
});

test('refresh picks up role changes made since login', async () => {
  const account = await registerAccount(server);
  await server.running.services.dataSource.query(`UPDATE users SET roles = '{USER,ADMIN}' WHERE id = $1`, [account.id]);
  const next = (await refresh(account.refreshToken)).data!.refreshToken;
  expect(claims(next.accessToken).roles).toEqual(['USER', 'ADMIN']);
  void LOGIN;
});
