import { productionEnv, refusedVariable } from '../support/config-env';
import { startTestServer, type TestServer } from '../support/test-server';
import { isolated } from '../abuse/abuse.helpers';

/**
 * Threat: CORS_ORIGINS=* echoed every Origin back, `null` included (sandboxed iframes, file://
 * pages), which is an allowlist of everything dressed up as a specific grant. `*` is refused in
 * production; elsewhere it answers a literal `*`, never an echoed origin and never with
 * credentials.
 */
const APP = 'https://app.example.com';
let wildcard: TestServer;
let allowlist: TestServer;
beforeAll(async () => {
  wildcard = await startTestServer(isolated({ CORS_ORIGINS: '*' }));
  allowlist = await startTestServer(isolated({ CORS_ORIGINS: APP }));
});
afterAll(() => Promise.all([wildcard.stop(), allowlist.stop()]));

async function preflight(server: TestServer, origin: string): Promise<{ allowOrigin: string | null; credentials: string | null }> {
  const res = await fetch(server.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
  return { allowOrigin: res.headers.get('access-control-allow-origin'), credentials: res.headers.get('access-control-allow-credentials') };
}

test.each(['null', 'https://evil.example'])('CORS_ORIGINS=* answers Origin %s with a literal *, not the origin', async (origin) => {
  expect(await preflight(wildcard, origin)).toEqual({ allowOrigin: '*', credentials: null });
  const post = await fetch(wildcard.url, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
  expect(post.headers.get('access-control-allow-origin')).toBe('*');
});

test('positive control: an allowlist echoes its own origin only, and never null', async () => {
  expect(await preflight(allowlist, APP)).toEqual({ allowOrigin: APP, credentials: null });
  expect(await preflight(allowlist, 'null')).toEqual({ allowOrigin: null, credentials: null });
  expect(await preflight(allowlist, 'https://evil.example')).toEqual({ allowOrigin: null, credentials: null });
});

test('production refuses CORS_ORIGINS=* (naming the variable) and accepts an allowlist', () => {
  expect(refusedVariable({ ...productionEnv(), DATABASE_URL: 'postgres://u:p@db:5432/x', CORS_ORIGINS: '*' })).toBe('CORS_ORIGINS');
  expect(refusedVariable({ ...productionEnv(), DATABASE_URL: 'postgres://u:p@db:5432/x', CORS_ORIGINS: `${APP}, *` })).toBe('CORS_ORIGINS');
  expect(refusedVariable({ ...productionEnv(), DATABASE_URL: 'postgres://u:p@db:5432/x', CORS_ORIGINS: APP })).toBeUndefined();
});
