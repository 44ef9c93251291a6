import { registerAccount } from '../support/accounts';
import { TcpProxy } from '../support/tcp-proxy';
import { codeOf, postGraphQL, startTestServer, type TestServer } from '../support/test-server';
import { pollUntil } from '../support/time';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

test('/healthz answers 200 {"status":"ok"}', async () => {
  const res = await fetch(`${server.origin}/healthz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: 'ok' });
});

test('/readyz answers 200 when the database answers and migrations are applied', async () => {
  const res = await fetch(`${server.origin}/readyz`);
  expect(res.status).toBe(200);
});

test('/.well-known/jwks.json lists the signing key with its kid and is cacheable', async () => {
  const res = await fetch(`${server.origin}/.well-known/jwks.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toContain('max-age');
  const body = (await res.json()) as { keys: Array<Record<string, string>> };
  expect(body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: server.running.services.keys.kid });
  expect(body.keys[0]).not.toHaveProperty('d'); // never the private part
});

test('GET /graphql with Accept: text/html serves the Apollo Sandbox landing page in development', async () => {
  const res = await fetch(server.url, { headers: { accept: 'text/html' } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/html');
  expect(await res.text()).toContain('apollo');
});

test('lets Apollo Sandbox (studio.apollographql.com) call a development instance (CORS preflight)', async () => {
  const res = await fetch(server.url, {
    method: 'OPTIONS',
    headers: { origin: 'https://studio.apollographql.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
  });
  expect(res.status).toBe(204);
  expect(res.headers.get('access-control-allow-origin')).toBe('https://studio.apollographql.com');
  expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
});

test('does not grant CORS to other origins', async () => {
  const res = await fetch(server.url, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  expect(res.headers.get('access-control-allow-origin')).toBeNull();
});

test('refuses a mutation sent with GET', async () => {
  const query = encodeURIComponent('mutation { logout }');
  const res = await fetch(`${server.url}?query=${query}`, { headers: { 'apollo-require-preflight': 'true' } });
  expect(res.status).toBe(405);
});

test('answers GET queries (never mutations) over GET', async () => {
  const account = await registerAccount(server);
  const res = await fetch(`${server.url}?query=${encodeURIComponent('{ me { id } }')}`, {
    headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${account.accessToken}` },
  });
  expect(await res.json()).toEqual({ data: { me: { id: account.id } } });
});

test('answers malformed JSON with 400 BAD_REQUEST, not a 500', async () => {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
  expect(res.status).toBe(400);
  const body = (await res.json()) as { errors: Array<{ extensions: { code: string } }> };
  expect(body.errors[0].extensions.code).toBe('BAD_REQUEST');
});

test('answers a syntax error with GRAPHQL_PARSE_FAILED and an unknown field with GRAPHQL_VALIDATION_FAILED', async () => {
  expect(codeOf(await server.gql('{ me { id '))).toBe('GRAPHQL_PARSE_FAILED');
  expect(codeOf(await server.gql('{ nope }'))).toBe('GRAPHQL_VALIDATION_FAILED');
});

test('answers a wrong variable type with BAD_USER_INPUT', async () => {
  const res = await server.gql('query($f: Int) { users(first: $f) { totalCount } }', { f: 'many' });
  expect(codeOf(res)).toBe('BAD_USER_INPUT');
});

describe('database outage', () => {
  const pgUrl = new URL(process.env.TEST_DATABASE_URL!);
  const proxy = new TcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
  let viaProxy: TestServer;

  beforeAll(async () => {
    const port = await proxy.start();
    const url = new URL(pgUrl.toString());
    url.hostname = '127.0.0.1';
    url.port = String(port);
    viaProxy = await startTestServer({ DATABASE_URL: url.toString(), DB_CONNECT_TIMEOUT_MS: '500' });
  });
  afterAll(async () => {
    await viaProxy.stop();
    await proxy.cut();
  });

  test('gives SERVICE_UNAVAILABLE and /readyz 503 while the database is away, and recovers by itself', async () => {
    const account = await registerAccount(viaProxy);
    await proxy.cut();

    const login = await postGraphQL<unknown>(viaProxy.url, 'mutation($i: LoginInput!) { login(input: $i) { __typename } }', {
      i: { identifier: account.email, password: account.password },
    });
    expect(login.status).toBe(200);
    expect(codeOf(login)).toBe('SERVICE_UNAVAILABLE');
    expect(JSON.stringify(login.errors)).not.toMatch(/ECONNREFUSED|stack|SELECT/);

    const me = await viaProxy.gql('{ me { id } }', {}, account.accessToken);
    expect(codeOf(me)).toBe('SERVICE_UNAVAILABLE');

    const ready = await fetch(`${viaProxy.origin}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', reason: 'database unreachable' });
    expect((await fetch(`${viaProxy.origin}/healthz`)).status).toBe(200);

    await proxy.restore();
    const readyAgain = await pollUntil(async () => (await fetch(`${viaProxy.origin}/readyz`)).status, (status) => status === 200, { timeoutMs: 5000 });
    expect(readyAgain.value).toBe(200);
    const again = await viaProxy.gql('mutation($i: LoginInput!) { login(input: $i) { __typename } }', {
      i: { identifier: account.email, password: account.password },
    });
    expect(again.data).toEqual({ login: { __typename: 'AuthPayload' } });
  });
});
