import { createHash } from 'node:crypto';
import { codeOf } from '../support/test-server';
import { completeLogin, OTHER_REDIRECT_URI, REDIRECT_URI, signIn, start, OAUTH_OPS, pkcePair } from './support/oauth-client';
import type { OpAccount } from './support/oidc-op';
import { startOidcWorld, type OidcWorld } from './support/oidc-setup';

/**
 * Attacks on the flow itself, against a real OpenID Provider and the built service. Every
 * refusal is OAUTH_FAILED; each test first shows the same flow succeeding without the attack.
 */
let world: OidcWorld;
beforeAll(async () => {
  // Logs on: each refusal is checked to come from the check the test is about.
  world = await startOidcWorld({ LOG_LEVEL: 'info' });
}, 60_000);

let refusalsRead = 0;
/**
 * The reason the service logged for its next refused flow, in order (every refusal in this file is
 * read). The log line may reach this process after the HTTP answer: wait for it.
 */
async function nextRefusal(): Promise<string> {
  for (let waited = 0; waited < 3000; waited += 20) {
    const lines = world.service.stdout().split('\n').filter((l) => l.includes('"oauth flow refused"'));
    if (lines.length > refusalsRead) return (JSON.parse(lines[refusalsRead++]) as { reason: string }).reason;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return 'no refusal logged';
}
afterAll(() => world?.stop());

const accountsWithEmail = async (email: string): Promise<number> => (await world.db.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email])).rows[0].n;

test('state replay: a completed flow cannot be completed again', async () => {
  const person = await world.opAccount();
  const flow = await start(world.send, 'acme');
  const callback = await world.authorizeAs(person)(flow.authorizationUrl);
  const args = { state: callback.state, code: callback.code, codeVerifier: flow.verifier, iss: callback.iss };
  expect((await completeLogin(world.send, args)).data?.completeOAuthLogin.__typename).toBe('AuthPayload');
  const replay = await completeLogin(world.send, args);
  expect(codeOf(replay)).toBe('OAUTH_FAILED');
  expect(await nextRefusal()).toBe('unknown, used or expired state');
  expect(replay.data).toBeNull();
});

test('code injection: a code issued to another flow is refused (its PKCE binding does not match this flow)', async () => {
  const victim = await world.opAccount();
  const mine = await start(world.send, 'acme');
  const theirs = await start(world.send, 'acme');
  const stolen = await world.authorizeAs(victim)(theirs.authorizationUrl);
  const injected = await completeLogin(world.send, { state: mine.state, code: stolen.code, codeVerifier: mine.verifier, iss: stolen.iss });
  expect(codeOf(injected)).toBe('OAUTH_FAILED');
  expect(await nextRefusal()).toMatch(/invalid_grant/);
  expect(await accountsWithEmail(victim.email)).toBe(0);
  // Positive control: the same code, in the flow it was issued to, signs in.
  const own = await completeLogin(world.send, { state: theirs.state, code: stolen.code, codeVerifier: theirs.verifier, iss: stolen.iss });
  expect(own.data?.completeOAuthLogin.user.email).toBe(victim.email);
});

test('PKCE: a client that did not start the flow (wrong codeVerifier) cannot complete it, and the flow is spent', async () => {
  const person = await world.opAccount();
  const flow = await start(world.send, 'acme');
  const callback = await world.authorizeAs(person)(flow.authorizationUrl);
  const wrong = await completeLogin(world.send, { state: callback.state, code: callback.code, codeVerifier: pkcePair().verifier, iss: callback.iss });
  expect(codeOf(wrong)).toBe('OAUTH_FAILED');
  expect(await nextRefusal()).toBe('codeVerifier does not match the codeChallenge');
  // The state was spent by that attempt: the right verifier cannot use it any more.
  expect(codeOf(await completeLogin(world.send, { state: callback.state, code: callback.code, codeVerifier: flow.verifier, iss: callback.iss }))).toBe('OAUTH_FAILED');
  expect(await nextRefusal()).toBe('unknown, used or expired state');
  // Positive control: the right verifier on a flow of its own.
  expect((await signIn(world.send, 'acme', world.authorizeAs(person))).data?.completeOAuthLogin.__typename).toBe('AuthPayload');
});

describe.each<[string, OpAccount['tamper'], RegExp]>([
  ['an ID token with another nonce (replayed from another flow) is refused', { nonce: 'nonce-of-another-flow' }, /"nonce" claim/],
  ['an ID token from another issuer is refused', { iss: 'https://issuer.attacker.example' }, /"iss" \(issuer\) claim/],
  ['an ID token for another audience (a token issued to another client) is refused', { aud: 'another-client' }, /"aud" \(audience\) claim/],
  ['an ID token signed with a key the provider does not publish is refused, even from the token endpoint', { foreignKey: true }, /signature verification failed/],
  ['an expired ID token is refused', { expired: true }, /"exp" \(expiration time\)/],
])('ID token checks', (name, tamper, reason) => {
  test(name, async () => {
    // Positive control: the same provider and flow, with an honest ID token.
    expect((await signIn(world.send, 'acme', world.authorizeAs(await world.opAccount()))).data?.completeOAuthLogin.__typename).toBe('AuthPayload');
    const person = await world.opAccount({ tamper });
    const res = await signIn(world.send, 'acme', world.authorizeAs(person));
    expect(codeOf(res)).toBe('OAUTH_FAILED');
    expect(await nextRefusal()).toMatch(reason);
    expect(await accountsWithEmail(person.email)).toBe(0);
  });
});

test('mix-up (RFC 9207): a response whose iss names another issuer is refused, and so is one without the iss this provider always sends', async () => {
  const person = await world.opAccount();
  for (const iss of ['https://issuer.attacker.example', null]) {
    const flow = await start(world.send, 'acme');
    const callback = await world.authorizeAs(person)(flow.authorizationUrl);
    expect(callback.iss).toBe(world.op.issuer);
    expect(codeOf(await completeLogin(world.send, { state: callback.state, code: callback.code, codeVerifier: flow.verifier, iss }))).toBe('OAUTH_FAILED');
    expect(await nextRefusal()).toMatch(/"iss"/);
  }
  // Positive control: with the iss the provider sent.
  expect((await signIn(world.send, 'acme', world.authorizeAs(person))).data?.completeOAuthLogin.__typename).toBe('AuthPayload');
});

test('open redirect: a redirect URI not on the allowlist (exact match) is refused', async () => {
  const challenge = pkcePair().challenge;
  for (const redirectUri of [
    'https://attacker.example/oauth/callback',
    `${REDIRECT_URI}/`,
    `${REDIRECT_URI}?next=https://attacker.example`,
    REDIRECT_URI.replace('https:', 'http:'),
    REDIRECT_URI.toUpperCase(),
  ]) {
    const res = await world.send(OAUTH_OPS.startLogin, { provider: 'acme', redirectUri, codeChallenge: challenge });
    expect({ redirectUri, code: codeOf(res), reason: await nextRefusal() }).toEqual({ redirectUri, code: 'OAUTH_FAILED', reason: 'redirect URI not on the allowlist' });
  }
  // Positive control: both allowlisted URIs, exactly as configured, start a flow that goes there.
  for (const redirectUri of [REDIRECT_URI, OTHER_REDIRECT_URI]) {
    const flow = await start(world.send, 'acme', { redirectUri });
    expect(new URL(flow.authorizationUrl).searchParams.get('redirect_uri')).toBe(redirectUri);
  }
});

test('a flow older than 10 minutes is refused', async () => {
  const person = await world.opAccount();
  const flow = await start(world.send, 'acme');
  expect(flow.expiresIn).toBe(600);
  const callback = await world.authorizeAs(person)(flow.authorizationUrl);
  await world.db.query(`UPDATE oauth_flows SET expires_at = now() - interval '1 second' WHERE state_hash = $1`, [createHash('sha256').update(flow.state).digest('hex')]);
  expect(codeOf(await completeLogin(world.send, { state: callback.state, code: callback.code, codeVerifier: flow.verifier, iss: callback.iss }))).toBe('OAUTH_FAILED');
  expect(await nextRefusal()).toBe('unknown, used or expired state');
  expect(await accountsWithEmail(person.email)).toBe(0);
  expect((await signIn(world.send, 'acme', world.authorizeAs(person))).data?.completeOAuthLogin.__typename).toBe('AuthPayload');
});

test('flow state at rest: 256-bit state stored only as a hash, PKCE and nonce sent to the provider, no provider token kept', async () => {
  const flow = await start(world.send, 'acme');
  expect(Buffer.from(flow.state, 'base64url')).toHaveLength(32);
  const url = new URL(flow.authorizationUrl);
  expect(url.origin).toBe(world.op.issuer);
  expect(url.searchParams.get('state')).toBe(flow.state);
  expect(url.searchParams.get('code_challenge_method')).toBe('S256');
  expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(url.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const rows = (await world.db.query('SELECT * FROM oauth_flows WHERE state_hash = $1', [createHash('sha256').update(flow.state).digest('hex')])).rows;
  expect(rows).toHaveLength(1);
  const stored = JSON.stringify(rows[0]);
  expect(stored).not.toContain(flow.state);
  expect(rows[0].code_verifier_enc).toMatch(/^v1\./);
  expect(rows[0].nonce).toBe(url.searchParams.get('nonce'));
  // Bouncer's own verifier is not the client's, and the provider never sees the client's challenge.
  expect(url.searchParams.get('code_challenge')).not.toBe(rows[0].client_code_challenge);
  const columns = (await world.db.query(`SELECT column_name FROM information_schema.columns WHERE table_name IN ('oauth_flows', 'linked_accounts')`)).rows.map((r: { column_name: string }) => r.column_name);
  expect(columns.filter((c: string) => /token/.test(c))).toEqual([]);
});

test('an unknown provider is refused', async () => {
  const res = await world.send(OAUTH_OPS.startLogin, { provider: 'nope', redirectUri: REDIRECT_URI, codeChallenge: pkcePair().challenge });
  expect(codeOf(res)).toBe('OAUTH_FAILED');
  expect(await nextRefusal()).toBe('unknown provider');
  // Positive control: a configured provider starts.
  expect((await start(world.send, 'acme')).authorizationUrl).toMatch(new RegExp(`^${world.op.issuer}/`));
  expect((await world.send(OAUTH_OPS.providers)).data?.oauthProviders).toEqual([{ id: 'acme', name: 'Acme' }]);
});
