import { performance } from 'node:perf_hooks';
import type { BenchContext } from '../lib/context';
import { graphQLBody } from '../lib/requests';
import { mediansOf, problems, runLoad, type LoadRequest, type LoadRun, type TagMedians } from '../lib/load';
import { atMost } from '../lib/report';
import { BenchDb, TokenMint } from '../lib/seed';
import { startService, type BenchServer } from '../lib/servers';
import { ratio } from '../lib/stats';

const SECTION = 'audit log (one connection: first page latency)';
const AUDIT_TARGET = 1.5; // issue #13: first page p50 at 1M rows <= 1.5 x at 1k
const SMALL_ROWS = 1_000;
/** Events of the filtered account and of the administrator on both sides: every page is full. */
const OWN_EVENTS = 100;
const OTHER_ACCOUNTS = 997;
const SEED_CHUNK_ROWS = 250_000; // one INSERT ... SELECT per chunk keeps each transaction bounded
const FILTERED_USER = '00000000-0000-4000-8000-00000000aaaa';

const QUERIES: Array<{ tag: string; label: string; query: string; variables: Record<string, unknown>; field: string }> = [
  { tag: 'all', label: 'auditEvents(first: 50), newest first', query: 'query A($first: Int) { auditEvents(first: $first) { nodes { id type userId createdAt data } pageInfo { endCursor hasNextPage } } }', variables: { first: 50 }, field: 'auditEvents' },
  { tag: 'user', label: 'auditEvents(first: 50, userId)', query: 'query U($first: Int, $userId: ID) { auditEvents(first: $first, userId: $userId) { nodes { id type userId createdAt data } pageInfo { endCursor hasNextPage } } }', variables: { first: 50, userId: FILTERED_USER }, field: 'auditEvents' },
  { tag: 'mine', label: 'myAuditEvents(first: 20)', query: 'query M { myAuditEvents(first: 20) { nodes { id type createdAt data } pageInfo { endCursor hasNextPage } } }', variables: {}, field: 'myAuditEvents' },
];

interface Side {
  label: string;
  rows: number;
  server: BenchServer;
  token: string;
  runs: Map<string, LoadRun[]>;
}

const rowsLabel = (n: number): string => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${Math.round(n / 1000)}k` : String(n));

/** An administrator (the bench signs its token) and `rows` audit events spread over 300 days. */
async function seed(db: BenchDb, rows: number, ctx: BenchContext): Promise<{ token: string; seconds: number }> {
  const started = performance.now();
  await db.seedUsers(1, 1, ctx.seedHash, 'auditadmin');
  await db.query(`UPDATE users SET roles = '{USER,ADMIN}' WHERE email = 'auditadmin1@bench.test'`);
  const [admin] = await db.query<{ id: string }>(`SELECT id FROM users WHERE email = 'auditadmin1@bench.test'`);
  const own = `INSERT INTO audit_events (type, user_id, ip_address, user_agent, data, created_at)
               SELECT 'login.succeeded', $1::uuid, '192.0.2.1', 'bench', '{"method":"password"}', now() - random() * interval '300 days'
                 FROM generate_series(1, $2::int)`;
  await db.query(own, [admin.id, OWN_EVENTS]);
  await db.query(own, [FILTERED_USER, OWN_EVENTS]);
  const rest = rows - 2 * OWN_EVENTS;
  for (let from = 1; from <= rest; from += SEED_CHUNK_ROWS) {
    await db.query(
      `INSERT INTO audit_events (type, user_id, ip_address, user_agent, data, created_at)
       SELECT (ARRAY['login.succeeded','login.failed','session.revoked','user.registered','two_factor.challenge_failed'])[1 + g % 5],
              md5((g % $3)::text)::uuid, '198.51.100.' || (g % 250), 'Mozilla/5.0 (bench)', jsonb_build_object('n', g),
              now() - random() * interval '300 days'
         FROM generate_series($1::int, $2::int) g`,
      [from, Math.min(rest, from + SEED_CHUNK_ROWS - 1), OTHER_ACCOUNTS],
    );
  }
  await db.query('ANALYZE audit_events');
  const token = new TokenMint(ctx.keys.jwtPrivateKeyPem, await db.openSessions(1, 'auditadmin')).tokens()[0];
  return { token, seconds: (performance.now() - started) / 1000 };
}

function request(q: (typeof QUERIES)[number], token: string): LoadRequest {
  const body = graphQLBody(q.query, q.variables);
  const expected = `{"data":{"${q.field}":{"nodes":[{`;
  return { tag: q.tag, body, headers: { authorization: `Bearer ${token}` }, expect: (_status, text) => text.startsWith(expected) };
}

/**
 * The first page of the audit log on a small table (1k events) and on a large one (1M; fewer with
 * --quick): two services, each on a database of its own, runs alternating between them so a noisy
 * moment hits both. Shows that the keyset indexes keep a page a short index scan at any size.
 */
export async function auditScenario(ctx: BenchContext): Promise<void> {
  const { options } = ctx;
  const sides: Side[] = [];
  const dbs: BenchDb[] = [];
  try {
    for (const rows of [SMALL_ROWS, options.auditRows]) {
      const url = await ctx.extraDatabase(`audit_${rowsLabel(rows).toLowerCase()}`);
      const server = await startService({ name: `service (${rowsLabel(rows)} audit events)`, databaseUrl: url, jwtPrivateKeyPem: ctx.keys.jwtPrivateKeyPem, encryptionKey: ctx.keys.encryptionKey, bcryptRounds: options.bcryptRounds });
      const db = await BenchDb.connect(url);
      dbs.push(db);
      ctx.log(`audit: seeding ${rows.toLocaleString('en-US')} audit events`);
      const { token, seconds } = await seed(db, rows, ctx);
      ctx.log(`audit: seeded in ${seconds.toFixed(1)}s`);
      ctx.raw[`auditSeedSeconds:${rowsLabel(rows)}`] = seconds;
      sides.push({ label: rowsLabel(rows), rows, server, token, runs: new Map(QUERIES.map((q) => [q.tag, []])) });
    }
    const run = (side: Side, q: (typeof QUERIES)[number], durationS: number): Promise<LoadRun> =>
      runLoad({ origin: side.server.origin, connections: 1, durationS, requests: [request(q, side.token)] });
    for (const side of sides) for (const q of QUERIES) await run(side, q, options.warmupS);
    for (let i = 0; i < options.runs; i++) {
      for (const q of QUERIES) for (const side of sides) side.runs.get(q.tag)!.push(await run(side, q, options.queryRunS));
    }

    const [small, large] = sides;
    const results: Record<string, { small: TagMedians; large: TagMedians }> = {};
    for (const q of QUERIES) {
      const a = mediansOf(small.runs.get(q.tag)!, q.tag);
      const b = mediansOf(large.runs.get(q.tag)!, q.tag);
      results[q.tag] = { small: a, large: b };
      const r = ratio(b.p50, a.p50);
      ctx.rows.push({
        section: SECTION,
        scenario: `${q.label}, ${large.label} events`,
        rps: b.rps,
        p50: b.p50,
        p99: b.p99,
        baseline: `${small.label} events p50 (${a.p50.toFixed(2)} ms)`,
        ratio: r,
        target: `<= ${AUDIT_TARGET.toFixed(2)}`,
        result: atMost(r, AUDIT_TARGET),
        note: problems(a, b),
      });
    }
    ctx.raw.audit = { rows: { small: small.rows, large: large.rows }, ...results };
  } finally {
    await Promise.allSettled(dbs.map((db) => db.close()));
    await Promise.allSettled(sides.map((s) => s.server.stop()));
  }
}
