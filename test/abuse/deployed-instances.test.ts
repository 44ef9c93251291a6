import { randomBytes } from 'node:crypto';
import { LOGIN, REGISTER, uniqueEmail } from '../support/accounts';
import { killServiceProcesses, startServiceProcess, type ServiceProcess } from '../support/service-process';
import { codeOf, postGraphQL, testEnv } from '../support/test-server';
import { pollUntil } from '../support/time';
import { independentCode } from '../two-factor/two-factor.helpers';
import { isolated, login, wrongPassword } from './abuse.helpers';

/**
 * The service as deployed: two `node dist/src/main.js` processes on one database (counters in
 * PostgreSQL, the default), logging at info level to stdout.
 */
const LOCK_AFTER = 20;
const REVOCATION_DEADLINE_MS = 5000; // CONTRACT.md: other instances refuse a revoked session within 5 s

let a: ServiceProcess;
let b: ServiceProcess;

beforeAll(async () => {
  // One key prefix for both: they share counters as instances behind one load balancer do.
  // Delays off so the 20 failures run without waiting.
  const env = testEnv(isolated({ LOG_LEVEL: 'info', LOGIN_DELAY_AFTER_FAILURES: '100', REVOCATION_POLL_MS: '1000' }));
  [a, b] = await Promise.all([startServiceProcess(env), startServiceProcess(env)]);
}, 120_000);
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  killServiceProcesses();
});

async function register(target: ServiceProcess, password = `Tr0ub4dor&3-${randomBytes(6).toString('hex')}`) {
  const email = uniqueEmail('deployed');
  const res = await postGraphQL<Record<string, any>>(target.url, REGISTER, { input: { email, password } });
  expect(res.errors).toBeUndefined();
  return { email, password, accessToken: res.data!.register.accessToken as string, refreshToken: res.data!.register.refreshToken as string };
}

test('failed logins spread over two instances lock the account on both', async () => {
  const account = await register(a);
  for (let i = 0; i < LOCK_AFTER; i++) {
    expect(codeOf(await login(i % 2 ? a.url : b.url, account.email, wrongPassword()))).toBe('INVALID_CREDENTIALS');
  }
  expect(codeOf(await login(a.url, account.email, account.password))).toBe('RATE_LIMITED');
  expect(codeOf(await login(b.url, account.email, account.password))).toBe('RATE_LIMITED');
});

test('a session revoked through one instance (logout) is refused by the other within 5 seconds', async () => {
  const account = await register(a);
  const signedIn = await login(a.url, account.email, account.password);
  const token = signedIn.data?.login.accessToken as string;
  const me = '{ me { email } }';
  expect((await postGraphQL<Record<string, any>>(b.url, me, {}, token)).data?.me.email).toBe(account.email);

  expect((await postGraphQL<Record<string, any>>(a.url, 'mutation { logout }', {}, token)).data?.logout).toBe(true);
  const loggedOut = Date.now();
  expect(codeOf(await postGraphQL(a.url, me, {}, token))).toBe('UNAUTHENTICATED');

  const refused = await pollUntil(
    async () => codeOf(await postGraphQL(b.url, me, {}, token)),
    (code) => code === 'UNAUTHENTICATED',
    { timeoutMs: REVOCATION_DEADLINE_MS + 1000 },
  );
  const refusedAfter = Date.now() - loggedOut;
  expect(refused.value).toBe('UNAUTHENTICATED');
  expect(refusedAfter).toBeLessThan(REVOCATION_DEADLINE_MS);
});

describe('logs', () => {
  const requestLines = (service: ServiceProcess) =>
    service
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'request');

  test('write one structured line per request with latency, outcome, operation name and error codes', async () => {
    const marker = `Marker${randomBytes(4).toString('hex')}`;
    await postGraphQL(b.url, `mutation ${marker}($input: LoginInput!) { login(input: $input) { __typename } }`, {
      input: { identifier: uniqueEmail(), password: wrongPassword() },
    });
    // The line is written when the response closes, a moment after the client has it.
    const { value: line } = await pollUntil(() => requestLines(b).find((l) => l.operation === marker), Boolean, { timeoutMs: 2000, intervalMs: 20 });
    expect(line).toMatchObject({ level: 30, service: 'bouncer', method: 'POST', path: '/graphql', status: 200, fields: ['login'], errors: ['INVALID_CREDENTIALS'] });
    expect(typeof line?.ms).toBe('number');

    const health = await fetch(`${b.origin}/healthz`);
    expect(health.status).toBe(200);
    const healthLogged = await pollUntil(() => requestLines(b).some((l) => l.path === '/healthz' && l.status === 200), Boolean, { timeoutMs: 2000, intervalMs: 20 });
    expect(healthLogged.value).toBe(true);
  });

  test('never contain passwords, tokens, TOTP secrets or codes', async () => {
    const password = `Sekr1t-${randomBytes(8).toString('hex')}`;
    const account = await register(a, password);
    const wrong = wrongPassword();
    await login(a.url, account.email, wrong);
    const signedIn = await login(a.url, account.email, password);
    const accessToken = signedIn.data?.login.accessToken as string;
    const refreshed = await postGraphQL<Record<string, any>>(
      a.url,
      'mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }',
      { t: signedIn.data?.login.refreshToken },
    );
    const enabled = await postGraphQL<Record<string, any>>(a.url, 'mutation($p: String!) { enableTwoFactor(password: $p) { secret otpauthUrl } }', { p: password }, accessToken);
    const secret = enabled.data?.enableTwoFactor.secret as string;
    const code = independentCode(secret); // the current step: inside the window whenever the request lands
    await postGraphQL(a.url, 'mutation($c: String!) { confirmTwoFactor(code: $c) { codes } }', { c: code }, accessToken);
    // Variables in a query string (refused: mutations never go over GET) must not reach the log either.
    await fetch(`${a.url}?query=${encodeURIComponent(LOGIN)}&variables=${encodeURIComponent(JSON.stringify({ input: { identifier: account.email, password } }))}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    // The GET was the last request: once its line is written, every line the checks below read is.
    const lastLogged = await pollUntil(() => requestLines(a).some((l) => l.method === 'GET'), Boolean, { timeoutMs: 2000, intervalMs: 20 });
    expect(lastLogged.value).toBe(true);

    const output = a.output();
    expect(requestLines(a).length).toBeGreaterThan(5);
    const secrets = {
      password,
      wrong,
      accessToken,
      refreshToken: signedIn.data?.login.refreshToken,
      rotatedRefreshToken: refreshed.data?.refreshToken.refreshToken,
      registerAccessToken: account.accessToken,
      registerRefreshToken: account.refreshToken,
      totpSecret: secret,
    };
    for (const [name, value] of Object.entries(secrets)) {
      expect(typeof value).toBe('string');
      expect({ name, found: output.includes(value as string) }).toEqual({ name, found: false });
    }
    // A 6-digit code could appear by chance in numbers (latencies, ports): look for it as a value only.
    expect(output).not.toMatch(new RegExp(`"${code}"`));
  });
});
