import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import { QueryFailedError } from 'typeorm';
import { createLogger } from '../../src/logging/logger';
import { REGISTER, uniqueEmail } from '../support/accounts';
import { freePort, killServiceProcesses, startServiceProcess, type ServiceProcess } from '../support/service-process';
import { dropDatabase, recreateDatabase, withDatabase } from '../support/test-database';
import { codeOf, postGraphQL, testEnv } from '../support/test-server';
import { pollUntil } from '../support/time';

/**
 * Threat: a failed statement is logged with everything TypeORM and the driver attach to it: the
 * bind parameters (refresh-token hashes, encrypted tokens, addresses) and PostgreSQL's "Failing
 * row contains (...)" detail. Anyone who reads the logs reads them. The service as deployed (a
 * child process logging JSON to stdout) is made to fail a statement that carries a known value.
 */
jest.setTimeout(120_000);

const database = `bouncer_logs_${process.pid}`;
const adminUrl = process.env.TEST_ADMIN_DATABASE_URL!;
const url = withDatabase(adminUrl, database);
const marker = `log-marker-${randomBytes(8).toString('hex')}`;
let service: ServiceProcess;

beforeAll(async () => {
  await recreateDatabase(adminUrl, database);
  service = await startServiceProcess(testEnv({ DATABASE_URL: url, PORT: String(await freePort()), LOG_LEVEL: 'info' }));
  // Sessions whose user agent starts with the marker cannot be stored: the INSERT of the session fails.
  const client = new Client({ connectionString: url });
  await client.connect();
  await client.query(`ALTER TABLE sessions ADD CONSTRAINT log_marker_check CHECK (user_agent IS NULL OR user_agent NOT LIKE 'log-marker-%') NOT VALID`);
  await client.end();
});
afterAll(async () => {
  await service?.stop();
  killServiceProcesses();
  await dropDatabase(adminUrl, database);
});

const logLines = (): Array<Record<string, any>> =>
  service
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

test('a failed statement is logged without its bind parameters or the failing row', async () => {
  const res = await postGraphQL(service.url, REGISTER, { input: { email: uniqueEmail('logs'), password: `Tr0ub4dor&3-${randomBytes(4).toString('hex')}` } }, undefined, {
    'user-agent': marker,
  });
  expect(codeOf(res)).toBe('INTERNAL_SERVER_ERROR');
  // Both lines of the failed request are written (the request line when the response closes), so
  // the checks below read everything it logged.
  const written = await pollUntil(() => ['masked error', 'request'].every((msg) => logLines().some((l) => l.msg === msg)), Boolean, { timeoutMs: 2000, intervalMs: 20 });
  expect(written.value).toBe(true);

  // No value bound to the statement reaches the log: not as a parameter, not in the failing row...
  expect(service.stdout().includes(marker)).toBe(false);
  expect(service.stderr().includes(marker)).toBe(false);
  // ...but the error is logged, with what an operator needs to find the cause.
  const masked = logLines().find((l) => l.msg === 'masked error');
  expect(masked?.err).toMatchObject({ type: 'QueryFailedError', sqlState: '23514', constraint: 'log_marker_check', table: 'sessions' });
  expect(masked?.err.query).toMatch(/INSERT INTO "?sessions"?/);
  expect(masked?.err).not.toHaveProperty('parameters');
  expect(masked?.err).not.toHaveProperty('detail');

  // Positive control: the same registration with another user agent works.
  const ok = await postGraphQL(service.url, REGISTER, { input: { email: uniqueEmail('logs'), password: `Tr0ub4dor&3-${randomBytes(4).toString('hex')}` } }, undefined, {
    'user-agent': 'an ordinary browser',
  });
  expect(ok.errors).toBeUndefined();
});

test('a refused value quoted in the driver message (invalid input syntax) is left out too', async () => {
  const secret = `secret-${randomBytes(8).toString('hex')}`;
  const client = new Client({ connectionString: url });
  await client.connect();
  const driverError = await client.query('SELECT $1::uuid', [secret]).then(() => undefined, (e: Error) => e);
  await client.end();
  expect(String(driverError)).toContain(secret); // PostgreSQL quotes the value it refused

  const chunks: string[] = [];
  const logger = createLogger({ logLevel: 'info' }, [], new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c.toString()), done()) }));
  logger.error({ err: new QueryFailedError('SELECT $1::uuid', [secret], driverError!) }, 'masked error');
  const line = JSON.parse(chunks.join(''));
  expect(chunks.join('')).not.toContain(secret);
  expect(line.err).toMatchObject({ type: 'QueryFailedError', sqlState: '22P02', query: 'SELECT $1::uuid', message: 'invalid input syntax for type uuid: "[redacted]"' });
});
