import type { BenchContext } from '../lib/context';
import { dataOf, gql, type GraphQLResult, LOGIN_MUTATION, ME_QUERY, REFRESH_MUTATION, REGISTER_MUTATION, VERIFY_2FA_MUTATION } from '../lib/graphql-client';
import { newPassword, REQUEST_RESET_MUTATION, RESET_PASSWORD_MUTATION, seedAccounts, seedLinks, VERIFY_EMAIL_MUTATION } from '../lib/email-setup';
import { atMost, type Row } from '../lib/report';
import { benchAuthenticator, FINISH_PASSKEY_LOGIN, finishVariables, seedPasskeys, START_PASSKEY_LOGIN, startThroughApi } from '../lib/passkey-setup';
import { refreshTokenIn } from '../lib/requests';
import { SEED_PASSWORD, seedEmail, WRONG_PASSWORD } from '../lib/seed';
import { startService, type BenchServer } from '../lib/servers';
import { challengesFor, enrolTwoFactor, nextStepCode, TwoFactorUnavailable, type EnrolledAccount } from '../lib/two-factor-setup';

const SECTION = 'database work per request (statements, counted in the service)';
/** Requests per operation, sent one at a time (the count is per request, never timed). */
const REQUESTS = 6;
/** Statements of background work, not of any request: left out of every count. */
const BACKGROUND = new Set(['revocations_since', 'throttle_cleanup']);
/** The mail sender's claims and outcomes (and its listener's LISTEN): on its own timer and NOTIFY, not a request's. */
const MAIL_SENDER = /^(UPDATE mail_outbox |LISTEN )/;
const ACCOUNT_PREFIX = 'stm';
const PASSKEY_PREFIX = 'stm-pk';

interface Prepared {
  /** Per-request inputs, made before counting starts. */
  inputs: unknown[];
}

/**
 * One operation whose statements are counted. `prepare` makes REQUESTS single-use inputs before
 * counting (challenges, refresh tokens); `run` sends one request and throws unless it did what the
 * row says. Adding a flow's row is one entry here.
 */
export interface StatementOp {
  name: string;
  /** The budget from issue #14, when there is one (a target: reported, never asserted). */
  budget?: number;
  prepare?(ctx: BenchContext, service: BenchServer, n: number): Promise<unknown[]>;
  run(service: BenchServer, input: unknown, i: number): Promise<void>;
  /** Statements of work the request starts without waiting for it (run must wait it out): counted apart. */
  afterAnswer?(label: string): boolean;
  /** Another operation whose count (before the answer) this one's must equal: the row's target. */
  sameAs?: string;
}

const loginAs = (identifier: string, password: string) => async (service: BenchServer) => {
  const res = await gql(service.origin, LOGIN_MUTATION, { input: { identifier, password } });
  return res;
};

const expectLogin = (typename: string) => async (res: Awaited<ReturnType<ReturnType<typeof loginAs>>>) => {
  const login = res.data?.login as { __typename?: string } | undefined;
  if (typename === 'INVALID_CREDENTIALS' ? res.errors?.[0]?.extensions?.code !== typename : login?.__typename !== typename) {
    throw new Error(`expected ${typename}: ${JSON.stringify(res).slice(0, 200)}`);
  }
};

let enrolled: EnrolledAccount[] | undefined;

/** Seeded accounts each operation signs in as (apart, so one operation's failures do not touch another's). */
const VALID_ACCOUNTS = 1;
const WRONG_ACCOUNTS = 11;
const REFRESH_ACCOUNTS = 21;

/**
 * REQUESTS seeded accounts from `first` on, with no failed login on record: earlier sections'
 * wrong passwords would otherwise add the statement that clears the run of failures, which only
 * the first success after failures pays.
 */
async function freshAccounts(ctx: BenchContext, first: number): Promise<string[]> {
  const emails = Array.from({ length: REQUESTS }, (_, i) => seedEmail(first + i));
  await ctx.db.query('UPDATE users SET failed_logins = 0 WHERE email = ANY($1)', [emails]);
  return emails;
}

/**
 * requestPasswordReset answers once the throttle has counted it; the lookup and the mail are one
 * transaction started at a random moment within 500 ms (REQUEST_WORK_JITTER_MS) after the answer.
 * The last request of a count waits this long, so every request's lookup lands in the count.
 */
const RESET_LOOKUP_WAIT_MS = 800;
const resetRequest = async (s: BenchServer, email: string, i: number): Promise<void> => {
  if (dataOf(await gql(s.origin, REQUEST_RESET_MUTATION, { email }), 'requestPasswordReset').requestPasswordReset !== true) throw new Error('requestPasswordReset did not answer true');
  if (i === REQUESTS - 1) await new Promise((resolve) => setTimeout(resolve, RESET_LOOKUP_WAIT_MS));
};
/** What the request itself sends is the throttle's count; everything else is the lookup-and-mail transaction after it. */
const lookupAndMail = (label: string): boolean => !label.startsWith('throttle_');
const expectTrue = (field: string) => async (res: GraphQLResult): Promise<void> => {
  if (dataOf<Record<string, unknown>>(res, field)[field] !== true) throw new Error(`${field} did not answer true`);
};

export const STATEMENT_OPS: StatementOp[] = [
  {
    name: 'login, valid password',
    budget: 5,
    prepare: (ctx) => freshAccounts(ctx, VALID_ACCOUNTS),
    run: async (s, email) => expectLogin('AuthPayload')(await loginAs(email as string, SEED_PASSWORD)(s)),
  },
  {
    name: 'login, wrong password',
    budget: 5,
    prepare: (ctx) => freshAccounts(ctx, WRONG_ACCOUNTS),
    run: async (s, email) => expectLogin('INVALID_CREDENTIALS')(await loginAs(email as string, WRONG_PASSWORD)(s)),
  },
  {
    name: 'login, unknown identifier',
    budget: 5,
    run: async (s, _x, i) => expectLogin('INVALID_CREDENTIALS')(await loginAs(`nobody-${Date.now()}-${i}@bench.test`, WRONG_PASSWORD)(s)),
  },
  {
    name: 'login of a 2FA account (challenge)',
    budget: 5,
    prepare: async (ctx, _s, n) => (enrolled ??= await enrolTwoFactor(ctx, ACCOUNT_PREFIX, n)),
    run: async (s, account) => expectLogin('TwoFactorChallenge')(await loginAs((account as EnrolledAccount).session.email, SEED_PASSWORD)(s)),
  },
  {
    name: 'verifyTwoFactor, TOTP (the throttle included)',
    budget: 2,
    prepare: async (ctx, s, n) => {
      enrolled ??= await enrolTwoFactor(ctx, ACCOUNT_PREFIX, n);
      const tokens = await challengesFor(s.origin, enrolled);
      return enrolled.map((account, i) => ({ account, token: tokens[i] }));
    },
    run: async (s, input) => {
      const { account, token } = input as { account: EnrolledAccount; token: string };
      dataOf(await gql(s.origin, VERIFY_2FA_MUTATION, { input: { challengeToken: token, code: nextStepCode(account.secret) } }), 'verifyTwoFactor');
    },
  },
  {
    name: 'refreshToken (current token)',
    budget: 1,
    prepare: async (ctx, s) =>
      Promise.all((await freshAccounts(ctx, REFRESH_ACCOUNTS)).map(async (email) => refreshTokenIn(JSON.stringify((await loginAs(email, SEED_PASSWORD)(s)).data ?? {})))),
    run: async (s, token) => {
      dataOf(await gql(s.origin, REFRESH_MUTATION, { refreshToken: token }), 'refreshToken');
    },
  },
  {
    name: 'register',
    run: async (s, _x, i) => {
      dataOf(await gql(s.origin, REGISTER_MUTATION, { input: { email: `stm-r${Date.now()}-${i}@bench.test`, password: SEED_PASSWORD } }), 'register');
    },
  },
  {
    name: 'startPasskeyLogin',
    run: async (s) => {
      dataOf(await gql(s.origin, START_PASSKEY_LOGIN), 'startPasskeyLogin');
    },
  },
  {
    name: 'finishPasskeyLogin',
    budget: 5,
    prepare: async (ctx, s, n) => {
      const authenticator = benchAuthenticator();
      const accounts = await seedPasskeys(ctx, PASSKEY_PREFIX, n);
      return Promise.all(accounts.map(async (account) => finishVariables(authenticator, account, await startThroughApi(s.origin))));
    },
    run: async (s, variables) => {
      dataOf(await gql(s.origin, FINISH_PASSKEY_LOGIN, variables as Record<string, unknown>), 'finishPasskeyLogin');
    },
  },
  {
    name: 'me',
    budget: 1,
    prepare: async (ctx, _s, n) => ctx.mint.fresh(n),
    run: async (s, token) => {
      dataOf(await gql(s.origin, ME_QUERY, {}, token as string), 'me');
    },
  },
  {
    name: 'requestPasswordReset, known address',
    prepare: async (ctx, _s, n) => (await seedAccounts(ctx.db, 'stmrk', n, ctx.seedHash)).map((a) => a.email),
    run: (s, email, i) => resetRequest(s, email as string, i),
    afterAnswer: lookupAndMail,
  },
  {
    name: 'requestPasswordReset, unknown address',
    run: (s, _x, i) => resetRequest(s, `nobody-stm-${Date.now()}-${i}@bench.test`, i),
    afterAnswer: lookupAndMail,
    sameAs: 'requestPasswordReset, known address',
  },
  {
    name: 'verifyEmail',
    prepare: async (ctx, _s, n) => (await seedLinks(ctx.db, 'verify_email', 'stmev', n, ctx.seedHash)).map((link) => link.token),
    run: async (s, token) => expectTrue('verifyEmail')(await gql(s.origin, VERIFY_EMAIL_MUTATION, { token })),
  },
  {
    name: 'resetPassword',
    prepare: async (ctx, _s, n) => (await seedLinks(ctx.db, 'reset_password', 'stmer', n, ctx.seedHash)).map((link) => link.token),
    run: async (s, token, i) => expectTrue('resetPassword')(await gql(s.origin, RESET_PASSWORD_MUTATION, { token, newPassword: newPassword(i) })),
  },
];

interface Counts {
  statements: Record<string, number>;
  redis: Record<string, number>;
}

async function countOf(service: BenchServer, work: () => Promise<void>): Promise<Counts> {
  await service.child.call('queries:reset');
  await work();
  const read = await service.child.call<{ statements?: Record<string, number>; redis?: Record<string, number> }>('queries:read');
  const statements = Object.fromEntries(Object.entries(read.statements ?? {}).filter(([label]) => !BACKGROUND.has(label) && !MAIL_SENDER.test(label)));
  return { statements, redis: read.redis ?? {} };
}

const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

/** Counts each operation's statements on `service` and pushes a row per operation. */
async function countOps(ctx: BenchContext, service: BenchServer, ops: StatementOp[], label: string): Promise<void> {
  const counted = new Map<string, number>();
  for (const op of ops) {
    let inputs: unknown[];
    try {
      inputs = op.prepare ? await op.prepare(ctx, service, REQUESTS) : Array.from({ length: REQUESTS }, () => undefined);
    } catch (error) {
      if (!(error instanceof TwoFactorUnavailable)) throw error;
      ctx.rows.push({ section: SECTION, scenario: op.name, result: 'skip', note: error.message });
      continue;
    }
    const counts = await countOf(service, async () => {
      for (let i = 0; i < inputs.length; i++) await op.run(service, inputs[i], i);
    });
    const later = Object.entries(counts.statements).filter(([name]) => op.afterAnswer?.(name));
    const laterPerRequest = total(Object.fromEntries(later)) / inputs.length;
    const perRequest = total(counts.statements) / inputs.length - laterPerRequest;
    const redisPerRequest = total(counts.redis) / inputs.length;
    counted.set(op.name, perRequest + redisPerRequest);
    const top = (entries: Array<[string, number]>): string =>
      entries
        .sort((a, b) => b[1] - a[1])
        .map(([name, n]) => `${name} x${+(n / inputs.length).toFixed(2)}`)
        .join(', ');
    const same = op.sameAs === undefined ? undefined : counted.get(op.sameAs);
    const row: Row = {
      section: SECTION,
      scenario: `${op.name}${label}`,
      value: `${+perRequest.toFixed(2)} statements${redisPerRequest ? ` + ${+redisPerRequest.toFixed(2)} Redis` : ''}${later.length ? ` + ${+laterPerRequest.toFixed(2)} after the answer` : ''}`,
      target: same !== undefined ? `= ${+same.toFixed(2)}` : op.budget !== undefined ? `<= ${op.budget}` : undefined,
      result: same !== undefined ? (perRequest + redisPerRequest === same ? 'pass' : 'miss') : op.budget !== undefined ? atMost(perRequest + redisPerRequest, op.budget) : 'info',
      note: [
        same !== undefined ? `target: as many as ${op.sameAs}` : undefined,
        later.length
          ? `before the answer: ${top(Object.entries(counts.statements).filter(([name]) => !op.afterAnswer?.(name)))}; after it: ${top(later)}`
          : top(Object.entries(counts.statements)),
      ]
        .filter(Boolean)
        .join('; '),
    };
    ctx.rows.push(row);
    (ctx.raw.statements as Record<string, unknown>)[`${op.name}${label}`] = { perRequest, laterPerRequest, redisPerRequest, ...counts };
  }
}

/**
 * Statements per request, counted inside the service (the bench's probe wraps pg's Client.query
 * and ioredis's sendCommand; BEGIN and COMMIT count), one request at a time. With --redis-url, the
 * login rows again on a second service whose counters live in Redis (Lua round trips counted).
 */
export async function statementsScenario(ctx: BenchContext): Promise<void> {
  ctx.raw.statements = {};
  ctx.log(`statements: ${STATEMENT_OPS.length} operations x ${REQUESTS} requests, counted in the service`);
  await countOps(ctx, ctx.service, STATEMENT_OPS, '');
  if (!ctx.options.redisUrl) {
    ctx.rows.push({ section: SECTION, scenario: 'login with REDIS_URL counters', result: 'skip', note: 'run with --redis-url URL' });
    return;
  }
  const redisService = await startService({
    name: 'service (Redis counters)',
    databaseUrl: ctx.databaseUrl,
    jwtPrivateKeyPem: ctx.keys.jwtPrivateKeyPem,
    encryptionKey: ctx.keys.encryptionKey,
    bcryptRounds: ctx.options.bcryptRounds,
    bcryptConcurrency: ctx.options.bcryptConcurrency,
    countQueries: true,
    redisUrl: ctx.options.redisUrl,
  });
  try {
    // The first calls load the Lua scripts (EVALSHA, then EVAL once): not counted.
    await loginAs(seedEmail(REFRESH_ACCOUNTS + REQUESTS), SEED_PASSWORD)(redisService);
    await loginAs(seedEmail(REFRESH_ACCOUNTS + REQUESTS), WRONG_PASSWORD)(redisService);
    await countOps(ctx, redisService, STATEMENT_OPS.filter((op) => op.name.startsWith('login,')), ' (REDIS_URL)');
  } finally {
    await redisService.stop();
  }
}
