import { registerAccount } from '../support/accounts';
import { startTestServer, type TestServer } from '../support/test-server';
import { isolated } from '../abuse/abuse.helpers';

/**
 * Threat to correctness, not speed: the one-statement refresh (rotate only if still current) and
 * the grace path racing each other. Twenty tabs of one browser present the same refresh token at
 * once, round after round, for 10 seconds (each tab starts a little late, so some requests meet
 * the rotation before it commits and some after). Every tab must get the same successor in every
 * round, and the session must live on: no tab is ever told INVALID_TOKEN.
 */
const TABS = 20;
const HAMMER_MS = 10_000;
const MAX_START_SKEW_MS = 4;
const REFRESH = 'mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken refreshToken } }';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(isolated());
});
afterAll(() => server.stop());

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function sessionOf(accessToken: string): string {
  return JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString('utf8')).sid;
}

test(`${TABS} tabs refreshing one session together for ${HAMMER_MS / 1000} s: no session lost, no double successor`, async () => {
  const account = await registerAccount(server);
  const sessionId = sessionOf(account.accessToken);
  let current = account.refreshToken;
  let accessToken = account.accessToken;
  let rounds = 0;
  const deadline = Date.now() + HAMMER_MS;
  while (Date.now() < deadline) {
    const presented = current;
    const answers = await Promise.all(
      Array.from({ length: TABS }, async () => {
        await sleep(Math.random() * MAX_START_SKEW_MS);
        return server.gql(REFRESH, { r: presented });
      }),
    );
    const errors = answers.flatMap((a) => a.errors ?? []);
    expect(errors).toEqual([]);
    const successors = new Set(answers.map((a) => a.data!.refreshToken.refreshToken as string));
    expect(successors.size).toBe(1);
    [current] = successors;
    expect(current).not.toBe(presented);
    for (const a of answers) expect(sessionOf(a.data!.refreshToken.accessToken)).toBe(sessionId);
    accessToken = answers[0].data!.refreshToken.accessToken;
    rounds++;
  }
  expect(rounds).toBeGreaterThan(10);

  // The session lives on, and its tokens are one chain: one current token, every other retired with
  // exactly one successor that no other token shares.
  expect((await server.gql('{ me { id } }', {}, accessToken)).data?.me?.id).toBe(account.id);
  const db = server.running.services.dataSource;
  const [chain]: Array<{ tokens: number; current: number; successors: number; distinct_successors: number; revoked: boolean }> = await db.query(
    `SELECT count(*)::int AS tokens,
            count(*) FILTER (WHERE retired_at IS NULL)::int AS current,
            count(successor_id)::int AS successors,
            count(DISTINCT successor_id)::int AS distinct_successors,
            (SELECT revoked_at IS NOT NULL FROM sessions WHERE id = $1) AS revoked
       FROM refresh_tokens WHERE session_id = $1`,
    [sessionId],
  );
  expect(chain).toEqual({ tokens: rounds + 1, current: 1, successors: rounds, distinct_successors: rounds, revoked: false });
  const next = await server.gql(REFRESH, { r: current });
  expect(next.errors).toBeUndefined();
});

test('positive control: reuse detection is on: a token whose successor was rotated again is refused, and ends the session', async () => {
  const account = await registerAccount(server);
  const second = (await server.gql(REFRESH, { r: account.refreshToken })).data!.refreshToken.refreshToken as string;
  const third = await server.gql(REFRESH, { r: second });
  expect(third.errors).toBeUndefined();
  const replay = await server.gql(REFRESH, { r: account.refreshToken });
  expect(replay.errors?.[0]?.extensions?.code).toBe('INVALID_TOKEN');
  const after = await server.gql(REFRESH, { r: third.data!.refreshToken.refreshToken });
  expect(after.errors?.[0]?.extensions?.code).toBe('INVALID_TOKEN');
});
