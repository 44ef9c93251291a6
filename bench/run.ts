import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { liveChildren, slowStops } from './lib/child';
import type { BenchContext } from './lib/context';
import { openBenchDatabase, type BenchDatabase } from './lib/database';
import { dataOf, gql, healthy, LOGIN_MUTATION, ME_QUERY } from './lib/graphql-client';
import { parseOptions, UsageError, type BenchOptions } from './lib/options';
import { atMost, notes, textTable, type Row } from './lib/report';
import { resultsMarkdown } from './lib/results-markdown';
import { BenchDb, SEED_PASSWORD, seedEmail, seedHash, TokenMint } from './lib/seed';
import { startBcryptRunner, startService, type BenchServer } from './lib/servers';
import { loginLadder } from './scenarios/login-ladder';
import { mixedScenario } from './scenarios/mixed';
import { poolSweep } from './scenarios/pool-sweep';
import { queryLadder } from './scenarios/query-ladder';
import { refreshScenario } from './scenarios/refresh';
import { auditScenario } from './scenarios/audit';
import { emailScenario } from './scenarios/email-flows';
import { outboxScenario } from './scenarios/outbox';
import { ME_SAMPLE_ACCOUNTS, scaleScenario } from './scenarios/scale';
import { statementsScenario } from './scenarios/statements';
import { twoFactorScenario } from './scenarios/two-factor';
import { passkeySignInScenario } from './scenarios/passkey-sign-in';

const ROOT = resolve(__dirname, '..', '..');
const RESULTS_DIR = join(ROOT, 'bench', 'results');
const RESULTS_MD = join(ROOT, 'bench', 'RESULTS.md');
const PROFILE_DIR = join(ROOT, '.data', 'bench-profiles');
const RSS_TARGET_MB = 256;

const benchStarted = performance.now();
function log(line: string): void {
  process.stderr.write(`[bench ${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);
}

const loadAtStart = loadavg();
/** What a commit costs on the bench's server (read once it is up). */
let commit: string | undefined;

/** The commit the service was built from, and whether src/ had changes on top (results belong to code). */
function sourceVersion(): string {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', 'src').length > 0;
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted src changes' : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}
const SOURCE = sourceVersion();

function machine(database: BenchDatabase | undefined): Record<string, unknown> {
  const cpu = cpus()[0];
  return {
    source: SOURCE,
    nproc: availableParallelism(),
    cpu: cpu?.model ?? 'unknown',
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    postgres: database ? `${database.serverVersion}, ${database.server}` : undefined,
    commit,
    loadAverageAtStart: loadAtStart.map((l) => Math.round(l * 100) / 100),
    loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100),
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
  };
}

function processState(pid: number): string {
  try {
    return /^State:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'gone';
  }
}

function generateKeys(): BenchContext['keys'] {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    jwtPrivateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    jwtPublicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    encryptionKey: randomBytes(32).toString('base64'),
  };
}

/** Fails the run early (exit 1) when the service does not answer the way every scenario assumes. */
async function sanityCheck(service: BenchServer, mint: TokenMint): Promise<void> {
  const login = dataOf<{ login: { __typename: string; accessToken?: string } }>(
    await gql(service.origin, LOGIN_MUTATION, { input: { identifier: seedEmail(1), password: SEED_PASSWORD } }),
    'login of a seeded account',
  ).login;
  if (login.__typename !== 'AuthPayload' || !login.accessToken) throw new Error(`login of a seeded account gave ${login.__typename}`);
  dataOf(await gql(service.origin, ME_QUERY, {}, login.accessToken), 'me with a token from login');
  dataOf(await gql(service.origin, ME_QUERY, {}, mint.tokens()[0]), 'me with a token signed by the bench for a seeded session');
}

type Section = [name: string, run: (ctx: BenchContext) => Promise<void>];
const SECTIONS: Section[] = [
  ['ladder', queryLadder],
  ['login', loginLadder],
  ['refresh', refreshScenario],
  ['2fa', twoFactorScenario],
  ['passkey', passkeySignInScenario],
  ['statements', statementsScenario],
  ['mixed', mixedScenario],
  ['pool', poolSweep],
  ['scale', scaleScenario],
  ['audit', auditScenario],
  ['email', emailScenario],
  ['outbox', outboxScenario],
];

function describeOptions(o: BenchOptions): Record<string, unknown> {
  return { ...o, only: [...o.only] };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const keys = generateKeys();
  let database: BenchDatabase | undefined;
  let service: BenchServer | undefined;
  let db: BenchDb | undefined;
  const rows: Row[] = [];
  const raw: Record<string, unknown> = {};
  const failures: string[] = [];

  const cleanup = async (): Promise<void> => {
    await Promise.allSettled(liveChildren().map((c) => c.stop()));
    await db?.close().catch(() => undefined);
    db = undefined;
    await database?.drop().catch((error: unknown) => log(`could not drop the bench database: ${(error as Error).message}`));
  };
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      log(`${signal}: stopping`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    log(`mode ${options.quick ? 'quick' : 'full'}; hashing the seed password (bcrypt ${options.bcryptRounds})`);
    const hash = await seedHash(options.bcryptRounds);
    database = await openBenchDatabase(process.env.DATABASE_URL, log);
    log(`database: ${database.server}, PostgreSQL ${database.serverVersion}`);
    if (options.profile) mkdirSync(PROFILE_DIR, { recursive: true });
    const dbUrl = database.url;
    const startMain = (): Promise<BenchServer> =>
      startService({ name: 'service', databaseUrl: dbUrl, jwtPrivateKeyPem: keys.jwtPrivateKeyPem, encryptionKey: keys.encryptionKey, bcryptRounds: options.bcryptRounds, bcryptConcurrency: options.bcryptConcurrency, countQueries: true });
    service = await startMain();
    log(`service up at ${service.origin} (pid ${service.child.pid}); seeding ${options.users} accounts`);
    db = await BenchDb.connect(database.url);
    const settings = await db.commitSettings();
    commit = `fsync ${settings.fsync}, synchronous_commit ${settings.synchronousCommit}, wal_sync_method ${settings.walSync}`;
    await db.seedUsers(1, options.users, hash);
    const mint = new TokenMint(keys.jwtPrivateKeyPem, await db.openSessions(Math.min(options.users, ME_SAMPLE_ACCOUNTS)));
    await sanityCheck(service, mint);

    const profile = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      if (!options.profile) return work();
      const target = ctx.service;
      await target.child.call('profile:start');
      await target.child.call('queries:reset');
      const result = await work();
      const path = join(PROFILE_DIR, `service-${name}.cpuprofile`);
      await target.child.call('profile:stop', { path });
      const { count } = await target.child.call<{ count: number }>('queries:read');
      log(`profile of the service during ${name}: ${path} (${count} pg statements)`);
      raw[`profile:${name}`] = { path, pgStatements: count };
      return result;
    };
    const ctx: BenchContext = {
      options,
      log,
      databaseUrl: database.url,
      extraDatabase: (suffix) => database!.extra(suffix),
      db,
      keys,
      seedHash: hash,
      service,
      mint,
      loginAccounts: options.users,
      bcryptRunner: await startBcryptRunner(),
      refreshTokens: [],
      baselines: {},
      rows,
      raw,
      profile,
    };

    for (const [name, run] of SECTIONS) {
      if (!options.only.has(name)) continue;
      if (interrupted) break;
      try {
        // 2fa profiles only its measured burst (enrolment would drown it); statements counts by itself.
        await (name === '2fa' || name === 'statements' ? run(ctx) : profile(name, () => run(ctx)));
      } catch (error) {
        const message = (error as Error).stack ?? String(error);
        failures.push(`${name}: ${message}`);
        log(`section ${name} failed: ${message}`);
        rows.push({ section: name, scenario: 'section failed', result: 'miss', note: (error as Error).message });
      }
      const health = interrupted ? null : await healthy(service.origin);
      if (health && !interrupted) {
        // Later sections would only measure connection errors: say so, and go on with a fresh instance.
        const why = `the service stopped answering during section ${name} (${health}; process state: ${processState(service.child.pid)}); restarted it`;
        failures.push(why);
        log(why);
        rows.push({ section: name, scenario: 'service stopped answering', result: 'miss', note: why });
        await service.stop();
        service = ctx.service = await startMain();
      }
    }

    const { peakRssMb } = service.memory();
    raw.serviceMemory = service.memory();
    rows.push({
      section: 'resources',
      scenario: 'service peak RSS (VmHWM) after all scenarios',
      value: `${peakRssMb.toFixed(0)} MB`,
      target: `<= ${RSS_TARGET_MB} MB`,
      result: atMost(peakRssMb, RSS_TARGET_MB),
    });
    const out = service.child.output().trim();
    if (out) raw.serviceOutput = out.split('\n').slice(-20);
  } catch (error) {
    failures.push((error as Error).stack ?? String(error));
    log(`bench failed: ${(error as Error).stack ?? String(error)}`);
    if (service) log(`service output:\n${service.child.output()}`);
  } finally {
    await cleanup();
  }

  const seconds = (performance.now() - benchStarted) / 1000;
  const info = machine(database);
  raw.slowStops = slowStops();
  if (slowStops().length) {
    rows.push({
      section: 'resources',
      scenario: 'shutdown on SIGTERM',
      result: 'miss',
      note: `did not exit within 5 s of SIGTERM (killed): ${slowStops().join(', ')}`,
    });
  }
  process.stdout.write(`\n${textTable(rows)}\n\n`);
  for (const note of notes(rows)) process.stdout.write(`- ${note}\n`);
  process.stdout.write(`\nmachine: ${JSON.stringify(info)}\ntotal ${seconds.toFixed(0)}s\n`);

  const report = { startedAt: new Date(Date.now() - seconds * 1000).toISOString(), seconds, machine: info, options: describeOptions(options), rows, raw, failures };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  // Only a complete full run (every section, nothing failed, no profiler slowing the service) is kept.
  const complete = !options.quick && !options.profile && options.only.size === SECTIONS.length && failures.length === 0;
  if (complete) {
    const stamp = report.startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
    writeFileSync(join(RESULTS_DIR, `${stamp}.json`), json);
    writeFileSync(join(RESULTS_DIR, 'latest.json'), json);
    writeFileSync(RESULTS_MD, resultsMarkdown({ rows, machine: info, options: describeOptions(options), seconds }));
    log(`results: bench/results/${stamp}.json, latest.json and bench/RESULTS.md`);
  } else {
    const name = options.quick ? 'quick-latest.json' : 'partial-latest.json';
    writeFileSync(join(RESULTS_DIR, name), json);
    log(`results: bench/results/${name} (not a complete full run: RESULTS.md and latest.json left as they are)`);
  }
  return failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof UsageError ? error.message : ((error as Error).stack ?? String(error))}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
