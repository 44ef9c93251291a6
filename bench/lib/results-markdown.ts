import type { BenchOptions } from './options';
import { markdownTable, notes, type Row } from './report';

/** What a results JSON holds that RESULTS.md is made from. */
export interface ResultsReport {
  rows: Row[];
  machine: Record<string, unknown>;
  options: Record<string, unknown>;
  seconds: number;
}

interface Machine {
  source?: string;
  nproc: number;
  cpu: string;
  memoryGb: number;
  node: string;
  postgres: string;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  commit?: string;
}

/** bench/RESULTS.md: the table, the machine, the notes, and how each row is measured. */
export function resultsMarkdown(report: ResultsReport): string {
  const { rows, seconds } = report;
  const m = report.machine as unknown as Machine;
  const options = report.options as unknown as BenchOptions;
  const lines = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (the full default run, about 8 minutes on 2 cores; `npm run bench -- --quick` is the CI smoke run and writes',
    'nothing here). The JSON of every full run is in `bench/results/` (`latest.json` is this one); `--help` lists the options.',
    'Every number is the median of the measured runs; every ratio compares with a baseline measured in the same run.',
    'Targets are reported, never asserted.',
    '',
    `Service built from commit ${m.source ?? 'unknown'}.`,
    `Machine: ${m.nproc} cores (${m.cpu}), ${m.memoryGb} GB RAM, Node ${m.node}, PostgreSQL ${m.postgres}${m.commit ? ` (${m.commit})` : ''}.`,
    `Load average (1, 5, 15 min) at start: ${m.loadAverageAtStart.join(', ')}; at the end: ${m.loadAverageAtEnd.join(', ')}. The load generator (autocannon), PostgreSQL and the servers share these cores.`,
    `Settings: bcrypt rounds ${options.bcryptRounds}; ${options.runs} runs per scenario after a warm-up; ${options.queryConnections} connections for query runs (${options.queryRunS}s each), ${options.loginConnections} for bcrypt-bound runs (${options.loginRunS}s each); ${options.users.toLocaleString('en-US')} seeded accounts (${options.scaleUsers.toLocaleString('en-US')} for scale). Total time ${seconds.toFixed(0)}s.`,
    '',
    markdownTable(rows),
    '',
    'What holds back each miss, with the measurements behind it (CPU per request by process below, statement timings) and the next step: [README, Performance](../README.md#performance).',
    '',
    '## Notes',
    '',
    ...notes(rows).map((n) => `- ${n}`),
    '',
    '## How each row is measured',
    '',
    '- Login ladder: L0 and H0 are raw `bcrypt.compare` / `bcrypt.hash` on the same input the service hashes (HMAC prehash), in a separate process on libuv\'s pool, with as many calls in flight as the HTTP runs have connections. Logins rotate over the seeded accounts; unknown identifiers are all distinct. Throughput runs go by request count (sized from a warm-up burst) so no bcrypt work spills into the next run. The timing rows send one login at a time (queueing would hide a few milliseconds) and compare p50 with a valid login\'s.',
    '- Query ladder: every rung is a process of its own on loopback, driven with the same request (rotating Bearer tokens of many accounts). R3\' is node:http + `jwt.verify` + the `me` row read with a `pg` prepared statement on a pool of 10; R1 and R3\' check the signature on every request; the service caches verified tokens (since 86c65b9), and as the bench reuses 1,000 tokens, R3 skips that work after the warm-up.',
    '- Access tokens for `me` are signed with the service\'s own AccessTokenService and key for session rows seeded in the database (what login would issue, without spending a bcrypt per token); a login-issued token is checked to give the same answer first.',
    '- Cold `me`: the same `me` with a token the service has never seen on every request (ES256 signatures are randomised, so signing a seeded session\'s claims again gives a new token string, which the verified-token cache misses), minted before the runs; compared with R3\', which verifies every request too.',
    '- CPU per request (notes): user + system time from /proc of the server process, of PostgreSQL (the postmaster and its children, when the server runs on this machine) and, for write paths, of the load generator, over the measured runs, divided by the requests sent. On 2 shared cores a ratio between two servers is mostly the ratio of these sums.',
    '- Write ladder: R5 is node:http + one `UPDATE bench_r5 ... WHERE id = $1 RETURNING n` per request (a `pg` prepared statement, autocommit, `synchronous_commit=on`, rows taken in turn from 1,000), on a pool of 10: one durable commit, the floor of any write. Write paths run interleaved with R5 run by run (`bench/lib/write-path.ts`; a new flow\'s row is one call there).',
    '- Refresh: autocannon `setupRequest` takes the latest token of a session from a pool, `onResponse` returns the rotated one; requests cut off by the end of a run are presented again within the reuse grace so no session is lost.',
    '- 2FA step: a few accounts go the whole way through the API first (enableTwoFactor, confirmTwoFactor, login, verifyTwoFactor); then thousands of accounts are seeded with TOTP on (the secret encrypted with the service\'s key, as confirmTwoFactor stores it) and one challenge each (as login stores it), one of them verified through the API; each request verifies a fresh challenge with the next step\'s TOTP code, in runs of a fixed count (sized from the warm-up) interleaved with R5.',
    '- Passkey sign-in: a passwordless sign-in is two requests, one row each against R5. A few passkeys are registered through the API first (startPasskeyRegistration, the software authenticator\'s ES256 attestation, finishPasskeyRegistration), their stored rows compared with what the bench seeds for the same key, and signed in with; then thousands of accounts are seeded with a user handle and a passkey each (as registration stores them), one of them signed in through the API. finishPasskeyLogin: a ceremony per request stored as startPasskeyLogin stores it (compared with one the API stored) and a user-verified assertion (counter 1) signed for it before the runs, so the load generator only sends bodies; runs of a fixed count (sized from the warm-up). startPasskeyLogin: the same request, runs by time. The note of the finish row combines both rates into whole sign-ins per second.',
    '- Database work per request: the service\'s probe counts every statement it sends through `pg` (BEGIN and COMMIT included) and every Redis command, by statement; each operation is sent 6 times, one at a time, and the count divided by 6, leaving out the revocation poll, the rate-limit cleanup and the mail sender\'s claims and outcomes (background work on timers and NOTIFY). requestPasswordReset answers before its lookup and mail (one transaction at a random moment within 500 ms): its rows wait that out and show those statements apart (\"after the answer\"); the unknown address\'s count before the answer must equal the known one\'s. The REDIS_URL rows (with `--redis-url`) run the logins on a second service whose counters live in Redis.',
    '- Mixed: one global sequence hands every tenth request out as a login, so logins keep bcrypt saturated and `me` runs at about one request in flight; it is compared with `me` alone on the same connections (saturated, the brief\'s baseline) and on one connection (the same light `me` load without logins). Event-loop delay is measured inside the service by a preloaded `monitorEventLoopDelay` probe (no service change).',
    '- Scale: a second service, configured the same, on a database of its own (`bouncer_bench_scale`) seeded with the large table, measured in runs alternating with the main service; one connection (latency without queueing); logins pick random accounts; `me` rotates over the tokens of 1,000 random accounts on each side (the same count, so the service\'s verified-token cache behaves alike).',
    '- Email flows: a second service, configured like the main one but with `SMTP_URL` at a local SMTP sink (`smtp-server` in a process of its own, counting what arrives) and a database of its own, so its mail really goes out. One account goes each way through the API first (register, the mailed link, `verifyEmail`; `requestPasswordReset`, the mailed link, `resetPassword`), and the stored tokens are checked to be what the bench seeds. Timing: `requestPasswordReset` for a known and an unknown address alternating on one connection (pairs, one request at a time; which kind goes first changes run by run), every address asked about once; each bench run is split in 4 short runs and the ratio is the median of the runs\' own unknown/known p50 ratios (the pairs of a run share that moment\'s load); afterwards every known request\'s mail must have reached the sink and none for an unknown address. `verifyEmail` and `resetPassword` are write paths against R5, on tokens seeded as `EmailTokens.send` stores them (SHA-256 of the token, kind, address, lifetime), one per account. `resetPassword` hashes the new password: its target is against H0 (raw `bcrypt.hash`, as many in flight as it has connections, run right after each of its runs for as long), the ratio to R5 is in its note.',
    '- Mail outbox: N reset-link mails queued in one transaction through the service\'s own `Outbox.enqueue`, timed from that commit to the sink\'s receipt of the last one (the sender claims 10 at a time, renders, sends, records), against raw nodemailer in the bench process (idle meanwhile) sending the same mails, rendered beforehand by the service\'s `MailRenderer`, through a pooled transport with 10 connections, and (informative) the way the service\'s transport sends, a connection per mail, 10 at once; runs alternate. The notes give the SMTP connections each side made and the CPU per mail by process.',
    '- Peak RSS: VmHWM of the service process after every scenario above has run against it.',
    '',
  ];
  return lines.join('\n');
}

