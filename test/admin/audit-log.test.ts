import { randomUUID } from 'node:crypto';
import { AUDIT_COLUMNS } from '../../src/admin/audit-log.service';
import { CleanupService } from '../../src/maintenance/cleanup.service';
import { registerAccount, type TestAccount } from '../support/accounts';
import { codeOf, type TestServer } from '../support/test-server';
import { makeAdmin, OPS, startIsolatedServer } from './admin.helpers';

let server: TestServer;
let drop: () => Promise<void>;
let admin: TestAccount;
const RETENTION_DAYS = 30;

beforeAll(async () => {
  ({ server, drop } = await startIsolatedServer('audit', { AUDIT_RETENTION_DAYS: String(RETENTION_DAYS) }));
  admin = await makeAdmin(server, await registerAccount(server));
});
afterAll(() => drop());

const db = () => server.running.services.dataSource;

/** Inserts events for a user, `at` as SQL (ties on purpose: several rows with one created_at). */
async function seed(userId: string | null, count: number, type = 'login.failed', at = 'now()'): Promise<string[]> {
  const rows: Array<{ id: string }> = await db().query(
    `INSERT INTO audit_events (type, user_id, ip_address, data, created_at)
     SELECT $1, $2, '192.0.2.1', jsonb_build_object('n', g), ${at} FROM generate_series(1, $3) g RETURNING id`,
    [type, userId, count],
  );
  return rows.map((r) => String(r.id));
}

async function allPages(query: string, variables: Record<string, unknown>, token: string, field: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 50; page++) {
    const res: { data?: Record<string, any> | null; errors?: unknown } = await server.gql(query, { ...variables, after }, token);
    expect(res.errors).toBeUndefined();
    const conn = res.data![field];
    ids.push(...conn.nodes.map((n: { id: string }) => n.id));
    if (!conn.pageInfo.hasNextPage) return ids;
    after = conn.pageInfo.endCursor;
  }
  throw new Error('too many pages');
}

describe('auditEvents', () => {
  test('pages through a user\'s events newest first, without gaps or repeats, rows sharing a timestamp included', async () => {
    const user = randomUUID();
    const older = await seed(user, 3, 'login.failed', `now() - interval '1 hour'`);
    const tied = await seed(user, 5, 'login.failed', `'2030-01-01 00:00:00.123456+00'::timestamptz - interval '5 years'`);
    const newer = await seed(user, 2, 'session.revoked');
    const expected = [...newer, ...older, ...tied].map(Number).sort((a, b) => b - a).map(String);
    // created_at order first, then id: the "tied" rows are the oldest.
    const seen = await allPages(OPS.auditEvents, { userId: user, first: 2 }, admin.accessToken, 'auditEvents');
    expect(seen).toEqual([...newer.reverse(), ...older.reverse(), ...tied.reverse()]);
    expect(new Set(seen).size).toBe(expected.length);
  });

  test('filters by type and by time (since inclusive, until exclusive), alone and together', async () => {
    const user = randomUUID();
    const [old] = await seed(user, 1, 'user.locked', `'2024-03-01T12:00:00Z'`);
    const [mid] = await seed(user, 1, 'user.unlocked', `'2024-03-02T12:00:00Z'`);
    const [last] = await seed(user, 1, 'user.locked', `'2024-03-03T12:00:00Z'`);
    const page = async (variables: Record<string, unknown>) =>
      (await server.gql(OPS.auditEvents, { userId: user, ...variables }, admin.accessToken)).data!.auditEvents.nodes.map((n: { id: string }) => n.id);
    expect(await page({})).toEqual([last, mid, old]);
    expect(await page({ type: 'user.locked' })).toEqual([last, old]);
    expect(await page({ since: '2024-03-02T12:00:00Z' })).toEqual([last, mid]);
    expect(await page({ until: '2024-03-02T12:00:00Z' })).toEqual([old]);
    expect(await page({ type: 'user.locked', since: '2024-03-02T00:00:00Z', until: '2024-03-04T00:00:00Z' })).toEqual([last]);
    const byType = await server.gql(OPS.auditEvents, { type: 'user.unlocked', first: 100 }, admin.accessToken);
    expect(byType.data!.auditEvents.nodes.map((n: { id: string }) => n.id)).toContain(mid);
    expect(byType.data!.auditEvents.nodes.every((n: { type: string }) => n.type === 'user.unlocked')).toBe(true);
  });

  test('returns every field of an event, data as an object', async () => {
    const user = await registerAccount(server);
    const res = await server.gql(OPS.auditEvents, { userId: user.id, type: 'user.registered' }, admin.accessToken);
    expect(res.data!.auditEvents.nodes).toEqual([
      { id: expect.stringMatching(/^\d+$/), type: 'user.registered', userId: user.id, sessionId: null, ipAddress: '127.0.0.1', userAgent: 'node', createdAt: expect.any(String), data: {} },
    ]);
  });

  test.each([[0], [101], [-5]])('first: %p is BAD_USER_INPUT on first', async (first) => {
    const res = await server.gql(OPS.auditEvents, { first }, admin.accessToken);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].extensions!.fields).toEqual([{ field: 'first', message: expect.any(String) }]);
  });

  test('a forged cursor and a malformed userId are BAD_USER_INPUT; a full page of 100 is fine', async () => {
    const forged = Buffer.from(JSON.stringify({ t: "2024-01-01'; DROP TABLE users; --", i: '1' })).toString('base64url');
    expect(codeOf(await server.gql(OPS.auditEvents, { after: forged }, admin.accessToken))).toBe('BAD_USER_INPUT');
    expect(codeOf(await server.gql(OPS.auditEvents, { userId: 'x' }, admin.accessToken))).toBe('BAD_USER_INPUT');
    const full = await server.gql(OPS.auditEvents, { first: 100 }, admin.accessToken);
    expect(full.errors).toBeUndefined();
  });
});

describe('myAuditEvents', () => {
  test("a user sees their own events only, never another account's", async () => {
    const user = await registerAccount(server);
    const other = await registerAccount(server);
    await seed(other.id, 3, 'login.failed');
    await server.gql(OPS.login, { input: { identifier: user.email, password: 'Wrong-password-123' } });
    const ids = await allPages(OPS.myAuditEvents, { first: 1 }, user.accessToken, 'myAuditEvents');
    const rows: Array<{ id: string; user_id: string }> = await db().query('SELECT id, user_id FROM audit_events WHERE id = ANY($1::bigint[])', [ids]);
    expect(rows.length).toBe(ids.length);
    expect(new Set(rows.map((r) => r.user_id))).toEqual(new Set([user.id]));
    const types = (await server.gql(OPS.myAuditEvents, {}, user.accessToken)).data!.myAuditEvents.nodes.map((n: { type: string }) => n.type);
    expect(types).toEqual(['login.failed', 'user.email_verification_sent', 'user.registered']);
    expect(codeOf(await server.gql(OPS.myAuditEvents, {}))).toBe('UNAUTHENTICATED');
  });
});

describe('indexes', () => {
  beforeAll(async () => {
    // Enough rows that the planner prefers an index to reading the table.
    await db().query(
      `INSERT INTO audit_events (type, user_id, created_at)
       SELECT (ARRAY['login.failed','login.succeeded','session.revoked'])[1 + g % 3], (ARRAY[gen_random_uuid(), gen_random_uuid()])[1 + g % 2],
              now() - g * interval '1 second'
         FROM generate_series(1, 20000) g`,
    );
    await db().query('ANALYZE audit_events');
  });

  test.each([
    ['no filter', '', 'ix_audit_events_keyset'],
    ['a user', `WHERE user_id = '00000000-0000-4000-8000-000000000001'`, 'ix_audit_events_user_keyset'],
    ['a type', `WHERE type = 'login.failed'`, 'ix_audit_events_type_keyset'],
    ['a page after a cursor', `WHERE (created_at, id) < (now() - interval '1 hour', 5000)`, 'ix_audit_events_keyset'],
    ["a user's page after a cursor", `WHERE user_id = '00000000-0000-4000-8000-000000000001' AND (created_at, id) < (now(), 5000)`, 'ix_audit_events_user_keyset'],
  ])('a page for %s is a backward index scan with no sort', async (_label, where, index) => {
    const plan: Array<{ 'QUERY PLAN': string }> = await db().query(
      `EXPLAIN SELECT ${AUDIT_COLUMNS} FROM audit_events ${where} ORDER BY created_at DESC, id DESC LIMIT 51`,
    );
    const text = plan.map((p) => p['QUERY PLAN']).join('\n');
    expect(text).toContain(`Index Scan Backward using ${index}`);
    expect(text).not.toMatch(/\bSort\b/);
  });
});

test(`the cleanup prunes events older than AUDIT_RETENTION_DAYS (${RETENTION_DAYS}) and keeps younger ones`, async () => {
  const user = randomUUID();
  const old = await seed(user, 3, 'login.failed', `now() - interval '${RETENTION_DAYS + 1} days'`);
  const young = await seed(user, 2, 'login.failed', `now() - interval '${RETENTION_DAYS - 1} days'`);
  const removed = await server.running.container.get(CleanupService).runOnce();
  expect(removed!.auditEvents).toBeGreaterThanOrEqual(old.length);
  const left: Array<{ id: string }> = await db().query('SELECT id FROM audit_events WHERE user_id = $1 ORDER BY id', [user]);
  expect(left.map((r) => String(r.id))).toEqual(young);
});
