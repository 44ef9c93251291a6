import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as plainRequest, type IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { isolated } from './abuse.helpers';

const APP_ORIGIN = 'https://app.example.com';

interface HttpsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  peerCommonName?: string;
}

let certDir: string;
let cert: string;
let prod: TestServer;
let dev: TestServer;

/** Production settings: real secrets, cost-10 bcrypt, a self-signed certificate for localhost. */
function productionEnv(): Record<string, string> {
  certDir = mkdtempSync(join(tmpdir(), 'bouncer-tls-'));
  const certFile = join(certDir, 'cert.pem');
  const keyFile = join(certDir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  cert = readFileSync(certFile, 'utf8');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return {
    NODE_ENV: 'production',
    JWT_PRIVATE_KEY: privateKey,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    BCRYPT_ROUNDS: '10',
    TLS_CERT_FILE: certFile,
    TLS_KEY_FILE: keyFile,
    CORS_ORIGINS: APP_ORIGIN,
    WEBAUTHN_RP_ID: 'app.example.com',
    WEBAUTHN_ORIGINS: APP_ORIGIN,
    // Required in production; nothing listens there, so mail only waits in the outbox.
    SMTP_URL: 'smtp://127.0.0.1:9',
    APP_URL: APP_ORIGIN,
    MAIL_FROM: 'no-reply@example.com',
  };
}

beforeAll(async () => {
  prod = await startTestServer(isolated(productionEnv()));
  dev = await startTestServer(isolated());
});
afterAll(async () => {
  await Promise.all([prod?.stop(), dev?.stop()]);
  rmSync(certDir, { recursive: true, force: true });
});

/** HTTPS to the production instance, trusting only the test's own certificate. */
function https(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', servername: 'localhost', port: prod.running.port, path, method: options.method ?? 'GET', headers: options.headers, ca: cert },
      (res) => {
        // Read while the socket is still attached to the response.
        const peer = (res.socket as unknown as { getPeerCertificate?: () => { subject?: { CN?: string } } } | null)?.getPeerCertificate?.();
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, peerCommonName: peer?.subject?.CN }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function gqlHttps(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<HttpsAnswer> {
  return https('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
}

const errorsOf = (answer: HttpsAnswer): Array<{ message: string; extensions?: Record<string, unknown> }> => JSON.parse(answer.body).errors ?? [];

describe('transport', () => {
  test('serves HTTPS with the configured certificate (no plaintext on the same port)', async () => {
    const res = await https('/healthz');
    expect(res.status).toBe(200);
    expect(res.peerCommonName).toBe('localhost');
    expect(prod.url.startsWith('https://')).toBe(true);

    const plaintext = await new Promise<string>((resolve) => {
      const req = plainRequest({ host: '127.0.0.1', port: prod.running.port, path: '/healthz' }, (r) => resolve(`status ${r.statusCode}`));
      req.on('error', () => resolve('refused'));
      req.end();
    });
    expect(plaintext).not.toBe('status 200');
  });

  test('tells browsers to keep to HTTPS (HSTS) in production', async () => {
    const res = await https('/healthz');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=31536000/);
    expect(res.headers['strict-transport-security']).toMatch(/includeSubDomains/);
  });

  test('sends security headers against sniffing, framing and referrer leaks, and no server fingerprint', async () => {
    const res = await gqlHttps('{ __typename }');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});

describe('schema disclosure in production', () => {
  test('refuses introspection', async () => {
    const res = await gqlHttps('{ __schema { types { name } } }');
    expect(res.status).toBe(400);
    expect(errorsOf(res)[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.body).not.toContain('AuthPayload');
  });

  test('serves no landing page', async () => {
    const res = await https('/graphql', { headers: { accept: 'text/html' } });
    expect(res.headers['content-type'] ?? '').not.toContain('text/html');
    expect(res.body.toLowerCase()).not.toContain('<html');
  });

  test('gives no "Did you mean" field suggestions for a typo (development does)', async () => {
    const typo = '{ mee { id } }';
    const devRes = await dev.gql(typo);
    expect(devRes.errors?.[0].message).toMatch(/Did you mean/);

    const res = await gqlHttps(typo);
    expect(res.status).toBe(400);
    expect(errorsOf(res)[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.body).not.toMatch(/Did you mean/);
    expect(res.body).not.toMatch(/"me"/);
  });

  test('sends no stack traces with errors', async () => {
    for (const query of ['{ mee }', '{ me { id ', 'mutation { login(input: { identifier: 1 }) { __typename } }']) {
      const res = await gqlHttps(query);
      expect(errorsOf(res).length).toBeGreaterThan(0); // else the checks below would pass by never running
      for (const error of errorsOf(res)) {
        expect(error.extensions?.stacktrace).toBeUndefined();
        expect(JSON.stringify(error)).not.toMatch(/\bat .*\.(js|ts):\d+/);
      }
    }
  });
});

describe('cross-site requests', () => {
  test('CSRF prevention: refuses a GET query without a preflight-forcing header', async () => {
    const res = await https(`/graphql?query=${encodeURIComponent('{ __typename }')}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/CSRF|Cross-Site/i);

    const allowed = await https(`/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(JSON.parse(allowed.body)).toEqual({ data: { __typename: 'Query' } });
  });

  test('CSRF prevention: refuses a form-like text/plain POST that the same body as JSON would pass', async () => {
    const body = JSON.stringify({ query: '{ __typename }' });
    const simple = await https('/graphql', { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
    expect(simple.status).toBe(400);
    expect(simple.body).toMatch(/CSRF|Cross-Site/i);
    const json = await https('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(JSON.parse(json.body)).toEqual({ data: { __typename: 'Query' } });
  });

  test('CORS: grants the configured origin, and nothing to any other', async () => {
    const preflight = (origin: string) =>
      https('/graphql', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    const allowed = await preflight(APP_ORIGIN);
    expect(allowed.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(allowed.headers['access-control-allow-methods']).toContain('POST');

    const other = await preflight('https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    // Apollo Sandbox is a development convenience only.
    expect((await preflight('https://studio.apollographql.com')).headers['access-control-allow-origin']).toBeUndefined();

    const simple = await gqlHttps('{ __typename }', {}, { origin: 'https://evil.example' });
    expect(simple.headers['access-control-allow-origin']).toBeUndefined();
    expect(simple.headers.vary).toMatch(/Origin/);
    expect((await gqlHttps('{ __typename }', {}, { origin: APP_ORIGIN })).headers['access-control-allow-origin']).toBe(APP_ORIGIN);
  });
});

test('a production instance still does its job (register and log in over HTTPS)', async () => {
  const email = `prod-${randomBytes(5).toString('hex')}@example.com`;
  const password = `Tr0ub4dor&3-${randomBytes(6).toString('hex')}`;
  const reg = await gqlHttps('mutation($i: RegisterInput!) { register(input: $i) { user { email } } }', { i: { email, password } });
  expect(JSON.parse(reg.body).data.register.user.email).toBe(email);
  const login = await gqlHttps('mutation($i: LoginInput!) { login(input: $i) { __typename } }', { i: { identifier: email, password } });
  expect(JSON.parse(login.body).data.login.__typename).toBe('AuthPayload');
  expect(codeOf({ status: 200, headers: new Headers(), errors: JSON.parse(login.body).errors })).toBeUndefined();
});
