import { Writable } from 'node:stream';
import { featureConfig, loadConfig } from '../../src/app/config';
import { moduleSecretFields } from '../../src/app/bootstrap';
import { ConfigError } from '../../src/config/parse';
import { createLogger } from '../../src/logging/logger';
import { oauthModule } from '../../src/oauth/oauth.module';
import { productionEnv } from '../support/config-env';
import { freePort, runServiceExpectingExit, startServiceProcess } from '../support/service-process';
import { codeOf, postGraphQL, testEnv } from '../support/test-server';
import { REDIRECT_URI, pkcePair, OAUTH_OPS, signIn } from './support/oauth-client';
import { makeCertificates, TestOp } from './support/oidc-op';
import { OP_CLIENT, providersEnv } from './support/oidc-setup';

const SECRET = 'super-secret-client-secret-0123456789';
const oidc = (over: Record<string, unknown> = {}) => ({ id: 'acme', issuer: 'https://login.acme.example', clientId: 'bouncer', clientSecret: SECRET, ...over });
const env = (providers: unknown, redirectUris: string | null = REDIRECT_URI, extra: Record<string, string> = {}) => ({
  OAUTH_PROVIDERS: typeof providers === 'string' ? providers : JSON.stringify(providers),
  ...(redirectUris === null ? {} : { OAUTH_REDIRECT_URIS: redirectUris }),
  ...extra,
});

/** The ConfigError of this environment (which variable, what message), or null when it loads. */
function refusal(vars: Record<string, string>): { variable: string; message: string } | null {
  try {
    loadConfig(vars);
    return null;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { variable: error.variable, message: error.message };
  }
}

describe('configuration is validated at start', () => {
  test.each<[string, Record<string, string>, string]>([
    ['not JSON', env('[{"id": "acme", "clientSecret": "' + SECRET + '"'), 'OAUTH_PROVIDERS'],
    ['not an array', env(oidc()), 'OAUTH_PROVIDERS'],
    ['a missing clientSecret', env([oidc({ clientSecret: undefined })]), 'OAUTH_PROVIDERS'],
    ['a misspelt field', env([oidc({ clientsecret: SECRET })]), 'OAUTH_PROVIDERS'],
    ['an issuer over plain HTTP', env([oidc({ issuer: 'http://login.acme.example' })]), 'OAUTH_PROVIDERS'],
    ['a bad id', env([oidc({ id: 'Acme Corp' })]), 'OAUTH_PROVIDERS'],
    ['the same id twice', env([oidc(), oidc()]), 'OAUTH_PROVIDERS'],
    ['an unknown type', env([oidc({ type: 'saml' })]), 'OAUTH_PROVIDERS'],
    ['scopes without openid', env([oidc({ scopes: 'email' })]), 'OAUTH_PROVIDERS'],
    ['providers without redirect URIs', env([oidc()], null), 'OAUTH_REDIRECT_URIS'],
    ['a relative redirect URI', env([oidc()], '/callback'), 'OAUTH_REDIRECT_URIS'],
    ['a redirect URI with a query', env([oidc()], `${REDIRECT_URI}?x=1`), 'OAUTH_REDIRECT_URIS'],
  ])('%s is refused, naming the variable and never a value', (_name, vars, variable) => {
    const refused = refusal(vars);
    expect(refused?.variable).toBe(variable);
    expect(refused?.message).not.toContain(SECRET);
  });

  test('a valid configuration loads with defaults (scopes, GitHub endpoints, display names)', () => {
    const config = featureConfig(
      loadConfig(env([oidc({ name: 'Acme' }), { id: 'github', type: 'github', clientId: 'gh', clientSecret: SECRET }], `${REDIRECT_URI}, http://localhost:3000/cb`)),
      oauthModule,
    );
    expect(config.providers[0]).toMatchObject({ type: 'oidc', name: 'Acme', scopes: 'openid email profile', tokenEndpointAuthMethod: 'client_secret_basic' });
    expect(config.providers[1]).toMatchObject({
      type: 'github',
      name: 'GitHub',
      authorizationEndpoint: 'https://github.com/login/oauth/authorize',
      tokenEndpoint: 'https://github.com/login/oauth/access_token',
      apiBaseUrl: 'https://api.github.com',
    });
    expect(config.redirectUris).toEqual([REDIRECT_URI, 'http://localhost:3000/cb']);
    // Nothing configured: no providers, nothing required.
    expect(featureConfig(loadConfig({}), oauthModule)).toMatchObject({ providers: [], redirectUris: [] });
  });

  test('production: plain-HTTP redirect URIs and GitHub endpoints are refused, except on loopback', () => {
    const github = { id: 'github', type: 'github', clientId: 'gh', clientSecret: SECRET };
    expect(refusal({ ...productionEnv(), ...env([github], 'http://app.example.com/cb') })?.variable).toBe('OAUTH_REDIRECT_URIS');
    expect(refusal({ ...productionEnv(), ...env([{ ...github, tokenEndpoint: 'http://github.internal/token' }]) })?.variable).toBe('OAUTH_PROVIDERS');
    expect(refusal({ ...productionEnv(), ...env([github], 'http://127.0.0.1:8080/cb') })).toBeNull();
  });

  test('the built service refuses to start on a bad OAUTH_PROVIDERS with one line that holds no secret', async () => {
    const { code, stderr } = await runServiceExpectingExit(testEnv(env([oidc({ issuer: 'ftp://acme.example' })])));
    expect(code).not.toBe(0);
    expect(stderr).toContain('OAUTH_PROVIDERS');
    expect(stderr).not.toContain(SECRET);
  });
});

test('secrets handed to a log call by mistake are redacted (client secret, verifier, provider tokens)', () => {
  const chunks: string[] = [];
  const destination = new Writable({ write: (chunk: Buffer, _e, done) => (chunks.push(chunk.toString()), done()) });
  const logger = createLogger({ logLevel: 'info' }, moduleSecretFields(), destination);
  logger.info({ provider: { clientSecret: SECRET, clientId: 'bouncer' }, args: { codeVerifier: 'verifier-value', state: 'state-value' }, tokens: { id_token: 'id.token.value', access_token: 'gho_value' } }, 'careless');
  const written = chunks.join('');
  for (const secret of [SECRET, 'verifier-value', 'state-value', 'id.token.value', 'gho_value']) expect({ secret, found: written.includes(secret) }).toEqual({ secret, found: false });
  expect(JSON.parse(written).provider.clientId).toBe('bouncer');
});

test('a provider that is down does not stop the start: OAUTH_FAILED until it answers, then sign-in works; its secret is never logged', async () => {
  const certs = makeCertificates();
  const port = await freePort();
  const issuer = `https://localhost:${port}`;
  const service = await startServiceProcess(testEnv({ NODE_EXTRA_CA_CERTS: certs.caFile, LOG_LEVEL: 'debug', ...providersEnv(issuer) }));
  let op: TestOp | undefined;
  try {
    const startLogin = () => postGraphQL<Record<string, any>>(service.url, OAUTH_OPS.startLogin, { provider: 'acme', redirectUri: REDIRECT_URI, codeChallenge: pkcePair().challenge });
    expect(codeOf(await startLogin())).toBe('OAUTH_FAILED');
    // The other operations do not depend on the provider.
    expect((await postGraphQL<Record<string, any>>(service.url, OAUTH_OPS.providers)).data?.oauthProviders).toEqual([{ id: 'acme', name: 'Acme' }]);

    op = await TestOp.start(certs, [OP_CLIENT], port);
    let started = await startLogin();
    for (let waited = 0; codeOf(started) === 'OAUTH_FAILED' && waited < 10_000; waited += 250) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      started = await startLogin();
    }
    expect(started.data?.startOAuthLogin.authorizationUrl).toMatch(new RegExp(`^${issuer}/`));
    const person = await op.addAccount({ id: 'sub-down-then-up', email: 'down-then-up@example.com', email_verified: true });
    const send = (q: string, v?: Record<string, unknown>, t?: string) => postGraphQL<Record<string, any>>(service.url, q, v, t);
    const res = await signIn(send, 'acme', (url) => op!.authorize(url, person.id));
    expect(res.data?.completeOAuthLogin.__typename).toBe('AuthPayload');
  } finally {
    await service.stop();
    await op?.stop();
    certs.remove();
  }
  const logs = service.stdout() + service.stderr();
  expect(logs).toContain('oauth provider discovery failed');
  expect(logs).not.toContain(OP_CLIENT.client_secret);
});
