import { registerAccount, type TestAccount } from '../support/accounts';
import { codeOf, type GraphQLResponse, type TestServer } from '../support/test-server';
import { cli, makeAdmin, OPS, startIsolatedServer } from './admin.helpers';

/**
 * The last administrator can never be removed or locked out, also when administrators act at the
 * same moment. This file runs on a database of its own, so it knows every administrator there is.
 */
let server: TestServer;
let env: Record<string, string>;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ server, env, drop } = await startIsolatedServer('admins'));
});
afterAll(() => drop());

const db = () => server.running.services.dataSource;
const ROUNDS = 5;

async function onlyAdmins(count: number): Promise<TestAccount[]> {
  await db().query(`UPDATE users SET roles = '{USER}', locked_at = NULL WHERE 'ADMIN' = ANY(roles)`);
  const admins: TestAccount[] = [];
  for (let i = 0; i < count; i++) admins.push(await makeAdmin(server, await registerAccount(server)));
  return admins;
}

async function activeAdmins(): Promise<string[]> {
  const rows: Array<{ id: string }> = await db().query(`SELECT id FROM users WHERE 'ADMIN' = ANY(roles) AND locked_at IS NULL`);
  return rows.map((r) => r.id).sort();
}

function outcomes(results: GraphQLResponse[]): string[] {
  return results.map((r) => codeOf(r) ?? 'ok').sort();
}

test('two administrators locking each other at once: one lock wins, the other is refused, one administrator can still act', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const [a, b] = await onlyAdmins(2);
    const results = await Promise.all([
      server.gql(OPS.lockUser, { userId: b.id }, a.accessToken),
      server.gql(OPS.lockUser, { userId: a.id }, b.accessToken),
    ]);
    expect(outcomes(results)).toEqual(['FORBIDDEN', 'ok']);
    expect(await activeAdmins()).toHaveLength(1);
  }
});

test('two administrators deleting each other at once: one is deleted, one administrator remains', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const [a, b] = await onlyAdmins(2);
    const results = await Promise.all([
      server.gql(OPS.deleteUser, { userId: b.id }, a.accessToken),
      server.gql(OPS.deleteUser, { userId: a.id }, b.accessToken),
    ]);
    expect(outcomes(results)).toEqual(['FORBIDDEN', 'ok']);
    const left = await activeAdmins();
    expect(left).toHaveLength(1);
    expect([a.id, b.id]).toContain(left[0]);
  }
});

test('one administrator locking while the other deletes: never none left', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const [a, b] = await onlyAdmins(2);
    const results = await Promise.all([
      server.gql(OPS.lockUser, { userId: b.id }, a.accessToken),
      server.gql(OPS.deleteUser, { userId: a.id }, b.accessToken),
    ]);
    expect(outcomes(results)).toEqual(['FORBIDDEN', 'ok']);
    expect(await activeAdmins()).toHaveLength(1);
  }
});

test('the two last administrators deleting their own accounts at once: one stays', async () => {
  const [a, b] = await onlyAdmins(2);
  const results = await Promise.all(
    [a, b].map((admin) => server.gql(OPS.deleteMyAccount, { password: admin.password }, admin.accessToken)),
  );
  expect(outcomes(results)).toEqual(['FORBIDDEN', 'ok']);
  expect(await activeAdmins()).toHaveLength(1);
});

test('the operator cannot lock or delete the last administrator from the CLI; with a second one they can', async () => {
  const [a] = await onlyAdmins(1);
  for (const command of ['lock-user', 'delete-user']) {
    const res = await cli(env, command, a.email);
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim()).toBe('bouncer cli: The last administrator cannot be locked or removed.');
  }
  expect(await activeAdmins()).toEqual([a.id]);
  // Positive control: once another administrator can act, the operator may lock this one.
  const b = await makeAdmin(server, await registerAccount(server));
  expect((await cli(env, 'lock-user', a.email)).code).toBe(0);
  expect(await activeAdmins()).toEqual([b.id]);
});

test('a locked administrator does not count: the last one who can act cannot be locked', async () => {
  const [a, b, c] = await onlyAdmins(3);
  expect(codeOf(await server.gql(OPS.lockUser, { userId: b.id }, a.accessToken))).toBeUndefined();
  // Only a and c can act now; c cannot be locked by the CLI once a is locked too.
  expect((await cli(env, 'lock-user', a.email)).code).toBe(0);
  const res = await cli(env, 'lock-user', c.email);
  expect(res.stderr).toContain('The last administrator cannot be locked or removed.');
  expect(await activeAdmins()).toEqual([c.id]);
});
