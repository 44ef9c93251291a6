import { spawn } from 'node:child_process';
import { startBouncer } from '../../src/app/bootstrap';
import { loadConfig } from '../../src/app/config';
import { MetricsServer } from '../../src/observability/metrics-server';
import { OutboxMetricsSource } from '../../src/observability/metric-sources';
import { isolated } from '../abuse/abuse.helpers';
import { refusedVariable } from '../support/config-env';
import { LOGIN, registerAccount } from '../support/accounts';
import { operation } from '../support/operations';
import { codeOf, startTestServer, testEnv, type TestServer } from '../support/test-server';
import { challenge, enrol, verify } from '../two-factor/two-factor.helpers';
import { metricsUrl, promtool, scrape, valueOf, type Sample } from './metrics.helpers';

const REFRESH = operation('RefreshToken');
const LOCK_AFTER = 3; // failures per account that lock it (small, so the test reaches a lockout)
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(
    isolated({ METRICS_PORT: '0', TRUST_PROXY: '1', LOGIN_LOCK_AFTER_FAILURES: String(LOCK_AFTER), LOGIN_DELAY_AFTER_FAILURES: '100', REFRESH_REUSE_GRACE_SECONDS: '0' }),
  );
});
afterAll(() => server.stop());

describe('where metrics are served', () => {
  test('GET /metrics answers on METRICS_PORT in the Prometheus text format, and never on the public port', async () => {
    const { contentType, text } = await scrape(server);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('# TYPE bouncer_graphql_requests_total counter');
    expect((await fetch(`${server.origin}/metrics`)).status).toBe(404);
    const metricsOrigin = new URL(metricsUrl(server)).origin;
    expect((await fetch(`${metricsOrigin}/graphql`)).status).toBe(404);
    expect((await fetch(metricsUrl(server), { method: 'POST' })).status).toBe(405);
  });

  test('METRICS_PORT unset: no listener; METRICS_PORT equal to PORT is refused at start', async () => {
    const plain = await startTestServer();
    try {
      expect(plain.running.container.has(MetricsServer)).toBe(false);
    } finally {
      await plain.stop();
    }
    expect(refusedVariable({ PORT: '4000', METRICS_PORT: '4000' })).toBe('METRICS_PORT');
    expect(refusedVariable({ PORT: '4000', METRICS_PORT: '9464' })).toBeUndefined();
  });
});

describe('the series', () => {
  const SERIES = [
    'bouncer_graphql_requests_total',
    'bouncer_graphql_request_duration_seconds',
    'bouncer_logins_total',
    'bouncer_two_factor_total',
    'bouncer_passkey_total',
    'bouncer_refreshes_total',
    'bouncer_rate_limited_total',
    'bouncer_lockouts_total',
    'bouncer_outbox_depth',
    'bouncer_outbox_delivery_failures_total',
    'bouncer_bcrypt_queue_length',
    'bouncer_bcrypt_duration_seconds',
    'bouncer_bcrypt_queue_wait_seconds',
    'bouncer_db_pool_connections',
    'bouncer_db_pool_waiting',
    'bouncer_db_pool_max',
    'nodejs_eventloop_lag_p99_seconds',
  ];

  test('every series CONTRACT.md asks for is declared; the outbox series read the mail module\'s outbox', async () => {
    const unsent = async (): Promise<number> =>
      (await server.running.services.dataSource.query('SELECT count(*)::int AS n FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL'))[0].n;
    const before = await unsent();
    const { text, samples } = await scrape(server);
    const after = await unsent();
    for (const name of SERIES) expect(text).toContain(`# TYPE ${name} `);
    // The sender may finish a mail meanwhile: the depth lies between the two counts around the scrape.
    expect(valueOf(samples, 'bouncer_outbox_depth')).toBeGreaterThanOrEqual(Math.min(before, after));
    expect(valueOf(samples, 'bouncer_outbox_depth')).toBeLessThanOrEqual(Math.max(before, after));
    expect(valueOf(samples, 'bouncer_outbox_delivery_failures_total')).toBe(0);
    expect(samples.filter((s) => s.name === 'bouncer_passkey_total').map((s) => s.value)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(valueOf(samples, 'bouncer_db_pool_max')).toBe(10);
    expect(valueOf(samples, 'bouncer_db_pool_connections', { state: 'idle' })).toBeGreaterThanOrEqual(1);
  });

  const checker = promtool();
  test('the text passes Prometheus\'s own checker (promtool check metrics)', async () => {
    const tool = await checker;
    if (!tool) {
      console.warn('SKIPPED: promtool is not installed (apt-get install prometheus); the text was not checked by Prometheus');
      return;
    }
    const { text } = await scrape(server);
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(tool, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('close', (code) => resolve({ code, output }));
      child.stdin.end(text);
    });
    expect(result).toEqual({ code: 0, output: '' });
  });

  test('the mail module\'s source feeds the outbox series', async () => {
    let failures = 2;
    const running = await startBouncer(loadConfig(testEnv(isolated({ METRICS_PORT: '0' }))), undefined, {
      override: (c) => c.set(OutboxMetricsSource, { depth: async () => 7, deliveryFailures: () => failures }),
    });
    try {
      const read = async (): Promise<Sample[]> => scrape({ running } as TestServer).then((s) => s.samples);
      expect(valueOf(await read(), 'bouncer_outbox_depth')).toBe(7);
      failures = 5;
      expect(valueOf(await read(), 'bouncer_outbox_delivery_failures_total')).toBe(5);
    } finally {
      await running.stop();
    }
  });
});

describe('counters move with the events', () => {
  test('logins, 2FA, refreshes (reuse included), rate limits, lockouts, bcrypt and requests', async () => {
    const before = (await scrape(server)).samples;
    const delta = async (name: string, labels: Record<string, string> = {}): Promise<number> => valueOf((await scrape(server)).samples, name, labels) - valueOf(before, name, labels);

    const account = await registerAccount(server);
    await server.gql(LOGIN, { input: { identifier: account.email, password: account.password } });
    await server.gql(LOGIN, { input: { identifier: account.email, password: 'Wrong-password-1' } }, undefined, asClient('192.0.2.10'));
    // Refresh once, then present the retired token again (no grace here): reuse detected.
    const next = (await server.gql(REFRESH, { refreshToken: account.refreshToken })).data!.refreshToken.refreshToken;
    expect(codeOf(await server.gql(REFRESH, { refreshToken: account.refreshToken }))).toBe('INVALID_TOKEN');
    expect(codeOf(await server.gql(REFRESH, { refreshToken: next }))).toBe('INVALID_TOKEN'); // its session was revoked
    expect(codeOf(await server.gql(REFRESH, { refreshToken: 'never-issued' }))).toBe('INVALID_TOKEN');

    const twoFactor = await registerAccount(server);
    const { authenticator } = await enrol(server, twoFactor);
    expect(codeOf(await verify(server, await challenge(server, twoFactor), '000000'))).toBe('INVALID_TWO_FACTOR_CODE');
    expect((await verify(server, await challenge(server, twoFactor), await authenticator.next())).errors).toBeUndefined();

    // An account locked by its failures, then refused while locked.
    const victim = await registerAccount(server);
    for (let i = 0; i < LOCK_AFTER; i++) await server.gql(LOGIN, { input: { identifier: victim.email, password: `Wrong-${i}-password` } });
    expect(codeOf(await server.gql(LOGIN, { input: { identifier: victim.email, password: victim.password } }))).toBe('RATE_LIMITED');

    expect(await delta('bouncer_logins_total', { method: 'password', outcome: 'success' })).toBe(1);
    expect(await delta('bouncer_logins_total', { method: 'password', outcome: 'invalid_credentials' })).toBe(1 + LOCK_AFTER);
    expect(await delta('bouncer_logins_total', { method: 'password', outcome: 'two_factor_required' })).toBe(2);
    expect(await delta('bouncer_logins_total', { method: 'password', outcome: 'rate_limited' })).toBe(1);
    expect(await delta('bouncer_rate_limited_total', { operation: 'login' })).toBe(1);
    expect(await delta('bouncer_lockouts_total', { policy: 'login:acct' })).toBe(1);
    expect(await delta('bouncer_refreshes_total', { outcome: 'success' })).toBe(1);
    expect(await delta('bouncer_refreshes_total', { outcome: 'reuse_detected' })).toBe(1);
    expect(await delta('bouncer_refreshes_total', { outcome: 'invalid_token' })).toBe(2);
    expect(await delta('bouncer_two_factor_total', { operation: 'verifyTwoFactor', outcome: 'invalid_two_factor_code' })).toBe(1);
    expect(await delta('bouncer_two_factor_total', { operation: 'verifyTwoFactor', outcome: 'success' })).toBe(1);
    expect(await delta('bouncer_two_factor_total', { operation: 'confirmTwoFactor', outcome: 'success' })).toBe(1);
    expect(await delta('bouncer_graphql_requests_total', { operation: 'register', outcome: 'ok' })).toBe(3);
    expect(await delta('bouncer_graphql_request_duration_seconds_count', { operation: 'refreshToken' })).toBe(4);
    // Every password check ran through bcrypt's queue: registrations, logins, the 2FA re-check.
    expect(await delta('bouncer_bcrypt_duration_seconds_count')).toBeGreaterThanOrEqual(3 + 2 + 1 + LOCK_AFTER + 1);
  });
});

describe('a metric label holding an email or address', () => {
  test('no label value is an email, an address, an id or a token, whatever the client sends', async () => {
    const account = await registerAccount(server);
    const address = '203.0.113.99';
    const ipv6 = '2001:db8::77';
    const leaky = `leak_${account.email.replace(/\W/g, '_')}`;
    // Client-chosen operation names and aliases, a user id in a variable, addresses in X-Forwarded-For.
    await server.gql(`query ${leaky} { ${leaky}: me { id } }`, {}, account.accessToken, asClient(address));
    await server.gql(`mutation ${leaky}($i: LoginInput!) { ${leaky}: login(input: $i) { __typename } }`, { i: { identifier: account.email, password: 'nope-nope-nope' } }, undefined, asClient(ipv6));
    await server.gql(`query Q { users(search: "${account.email}") { totalCount } }`, {}, account.accessToken);
    await server.gql(`query { nope_${account.id.replace(/-/g, '_')} }`, {}, account.accessToken);
    await server.gql(REFRESH, { refreshToken: account.refreshToken }, undefined, asClient(address));

    const { samples } = await scrape(server);
    const values = [...new Set(samples.flatMap((s) => Object.values(s.labels)))];
    const secrets = [account.email, account.id, account.refreshToken, account.accessToken, address, ipv6, leaky, '127.0.0.1'];
    for (const value of values) {
      expect(value).not.toMatch(/@/);
      expect(value).not.toMatch(/\d{1,3}(\.\d{1,3}){3}/);
      expect(value).not.toMatch(/[0-9a-f]{1,4}:[0-9a-f]{0,4}:/i);
      expect(value).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/i);
      expect(value).not.toMatch(/^[\w-]{30,}$/);
      for (const secret of secrets) expect(value.includes(secret)).toBe(false);
    }
    // Operations are named by their root field: what the client called them is not used.
    const operations = new Set(samples.filter((s) => s.name === 'bouncer_graphql_requests_total').map((s) => s.labels.operation));
    expect([...operations].every((o) => /^[a-zA-Z]+$/.test(o))).toBe(true);
    expect(operations.has('me')).toBe(true);
    expect(operations.has('invalid')).toBe(true);
    expect(valueOf(samples, 'bouncer_graphql_requests_total', { operation: 'me' })).toBeGreaterThanOrEqual(1);
  });
});

/** A client behind the one trusted proxy hop, at this address. */
function asClient(address: string): Record<string, string> {
  return { 'x-forwarded-for': address };
}
