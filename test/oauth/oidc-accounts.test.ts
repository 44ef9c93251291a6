import { LOGIN, registerAccount, uniqueEmail } from '../support/accounts';
import { operation } from '../support/operations';
import { codeOf } from '../support/test-server';
import { enrol, verify } from '../two-factor/two-factor.helpers';
import { link, OAUTH_OPS, signIn } from './support/oauth-client';
import { startOidcWorld, type OidcWorld } from './support/oidc-setup';

/**
 * Accounts and linking against a real OpenID Provider (oidc-provider over HTTPS) and the built
 * service: who a provider sign-in lands on, and when it must not land anywhere.
 */
let world: OidcWorld;
beforeAll(async () => {
  world = await startOidcWorld();
}, 60_000);
afterAll(() => world?.stop());

const links = async (userId: string) =>
  (await world.db.query('SELECT provider, subject, email_verified FROM linked_accounts WHERE user_id = $1 ORDER BY created_at', [userId])).rows;
const auditTypes = async (userId: string): Promise<string[]> =>
  (await world.db.query('SELECT type FROM audit_events WHERE user_id = $1 ORDER BY id', [userId])).rows.map((r: { type: string }) => r.type);
const markVerified = (userId: string) => world.db.query('UPDATE users SET email_verified = true WHERE id = $1', [userId]);

describe('positive paths', () => {
  test('a new provider subject creates an account without a password, emailVerified as the provider says, found again by its subject', async () => {
    const person = await world.opAccount({ email_verified: true });
    const first = await signIn(world.send, 'acme', world.authorizeAs(person));
    expect(first.errors).toBeUndefined();
    expect(first.data?.completeOAuthLogin).toMatchObject({ __typename: 'AuthPayload', user: { email: person.email, emailVerified: true, username: null } });
    const user = first.data!.completeOAuthLogin.user;
    const [row] = (await world.db.query('SELECT password_hash FROM users WHERE id = $1', [user.id])).rows;
    expect(row.password_hash).toBeNull();
    expect(await links(user.id)).toEqual([{ provider: 'acme', subject: person.id, email_verified: true }]);
    expect(await auditTypes(user.id)).toEqual(['oauth.account_created', 'oauth.login', 'login.succeeded']);
    // The access token works, and the next sign-in lands on the same account.
    expect((await world.send(operation('Me'), {}, first.data!.completeOAuthLogin.accessToken)).data?.me.id).toBe(user.id);
    const again = await signIn(world.send, 'acme', world.authorizeAs(person));
    expect(again.data?.completeOAuthLogin.user.id).toBe(user.id);

    const unverified = await world.opAccount({ email_verified: false });
    const created = await signIn(world.send, 'acme', world.authorizeAs(unverified));
    expect(created.data?.completeOAuthLogin.user).toMatchObject({ email: unverified.email, emailVerified: false });
  });

  test('an existing verified account is linked when the provider verified the same address too', async () => {
    const account = await registerAccount(world.api);
    await markVerified(account.id);
    const person = await world.opAccount({ email: account.email, email_verified: true });
    const res = await signIn(world.send, 'acme', world.authorizeAs(person));
    expect(res.data?.completeOAuthLogin.user.id).toBe(account.id);
    expect(await links(account.id)).toEqual([{ provider: 'acme', subject: person.id, email_verified: true }]);
    expect(await auditTypes(account.id)).toEqual(expect.arrayContaining(['oauth.linked', 'oauth.login']));
    // Nothing else changed: the password still signs in.
    expect((await world.send(LOGIN, { input: { identifier: account.email, password: account.password } })).data?.login.__typename).toBe('AuthPayload');
  });

  test('explicit link while signed in, then sign-in with that provider account (no email rule: both sides proven)', async () => {
    const account = await registerAccount(world.api);
    const person = await world.opAccount({ email: uniqueEmail('elsewhere'), email_verified: false });
    const linked = await link(world.send, account.accessToken, 'acme', world.authorizeAs(person));
    expect(linked.errors).toBeUndefined();
    expect(linked.data?.completeOAuthLink).toMatchObject({ provider: 'acme', email: person.email });
    const listed = await world.send(OAUTH_OPS.linked, {}, account.accessToken);
    expect(listed.data?.linkedAccounts).toEqual([linked.data!.completeOAuthLink]);
    const res = await signIn(world.send, 'acme', world.authorizeAs(person));
    expect(res.data?.completeOAuthLogin.user.id).toBe(account.id);
  });

  test('an account with two-factor on gets its challenge from a provider sign-in, and the second factor opens the session', async () => {
    const account = await registerAccount(world.api);
    const person = await world.opAccount();
    expect((await link(world.send, account.accessToken, 'acme', world.authorizeAs(person))).errors).toBeUndefined();
    // Positive control: before 2FA the same sign-in opens a session.
    expect((await signIn(world.send, 'acme', world.authorizeAs(person))).data?.completeOAuthLogin.__typename).toBe('AuthPayload');
    const { authenticator } = await enrol(world.api, account);
    const res = await signIn(world.send, 'acme', world.authorizeAs(person));
    expect(res.data?.completeOAuthLogin).toMatchObject({ __typename: 'TwoFactorChallenge', methods: ['TOTP', 'RECOVERY_CODE'] });
    expect(res.data?.completeOAuthLogin.accessToken).toBeUndefined();
    const verified = await verify(world.api, res.data!.completeOAuthLogin.challengeToken, await authenticator.next());
    expect(verified.data?.verifyTwoFactor.user.id).toBe(account.id);
  });
});

describe('pre-account takeover', () => {
  test('an attacker who registered the victim address with a password is not merged with the victim provider sign-in (ACCOUNT_LINK_REQUIRED)', async () => {
    // The attacker registers first; the address is never verified (the attacker cannot read its mail).
    const attacker = await registerAccount(world.api);
    const victim = await world.opAccount({ email: attacker.email, email_verified: true });
    const res = await signIn(world.send, 'acme', world.authorizeAs(victim));
    expect(codeOf(res)).toBe('ACCOUNT_LINK_REQUIRED');
    expect(res.data).toBeNull();
    expect(await links(attacker.id)).toEqual([]);
    expect(await auditTypes(attacker.id)).toContain('oauth.link_refused');
    // Positive control: once the account's address is verified (its owner proved it), the same sign-in links.
    await markVerified(attacker.id);
    expect((await signIn(world.send, 'acme', world.authorizeAs(victim))).data?.completeOAuthLogin.user.id).toBe(attacker.id);
  });

  test('an unverified address from the provider never links to an existing account (ACCOUNT_LINK_REQUIRED)', async () => {
    const owner = await registerAccount(world.api);
    await markVerified(owner.id);
    // The attacker's provider account claims the owner's address without having proved it.
    const attacker = await world.opAccount({ email: owner.email, email_verified: false });
    const res = await signIn(world.send, 'acme', world.authorizeAs(attacker));
    expect(codeOf(res)).toBe('ACCOUNT_LINK_REQUIRED');
    expect(await links(owner.id)).toEqual([]);
    // No second account with that address either.
    expect((await world.db.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [owner.email])).rows[0].n).toBe(1);
    // Positive control: the owner's own provider account, address verified, links.
    const genuine = await world.opAccount({ email: owner.email, email_verified: true });
    expect((await signIn(world.send, 'acme', world.authorizeAs(genuine))).data?.completeOAuthLogin.user.id).toBe(owner.id);
  });
});

describe('linking rules', () => {
  test('a provider account linked to one account cannot be linked to another (OAUTH_ACCOUNT_IN_USE)', async () => {
    const first = await registerAccount(world.api);
    const second = await registerAccount(world.api);
    const person = await world.opAccount();
    expect((await link(world.send, first.accessToken, 'acme', world.authorizeAs(person))).errors).toBeUndefined();
    const stolen = await link(world.send, second.accessToken, 'acme', world.authorizeAs(person));
    expect(codeOf(stolen)).toBe('OAUTH_ACCOUNT_IN_USE');
    expect(await links(second.id)).toEqual([]);
    expect((await signIn(world.send, 'acme', world.authorizeAs(person))).data?.completeOAuthLogin.user.id).toBe(first.id);
    // Positive controls: the owner linking it again changes nothing; the other account links its own.
    expect((await link(world.send, first.accessToken, 'acme', world.authorizeAs(person))).data?.completeOAuthLink.provider).toBe('acme');
    expect(await links(first.id)).toHaveLength(1);
    expect((await link(world.send, second.accessToken, 'acme', world.authorizeAs(await world.opAccount()))).errors).toBeUndefined();
  });

  test('unlinking the last way to sign in is refused (LAST_SIGN_IN_METHOD); with another link or a password it is allowed', async () => {
    const person = await world.opAccount();
    const created = (await signIn(world.send, 'acme', world.authorizeAs(person))).data!.completeOAuthLogin;
    const token = created.accessToken;
    const [only] = (await world.send(OAUTH_OPS.linked, {}, token)).data!.linkedAccounts;
    const refused = await world.send(OAUTH_OPS.unlink, { id: only.id }, token);
    expect(codeOf(refused)).toBe('LAST_SIGN_IN_METHOD');
    expect(await links(created.user.id)).toHaveLength(1);

    // Positive control: with a second link, the first can go, and the second still signs in.
    const second = await world.opAccount();
    expect((await link(world.send, token, 'acme', world.authorizeAs(second))).errors).toBeUndefined();
    expect((await world.send(OAUTH_OPS.unlink, { id: only.id }, token)).data?.unlinkAccount).toBe(true);
    expect((await signIn(world.send, 'acme', world.authorizeAs(second))).data?.completeOAuthLogin.user.id).toBe(created.user.id);
    expect(await auditTypes(created.user.id)).toContain('oauth.unlinked');
    const [remaining] = (await world.send(OAUTH_OPS.linked, {}, token)).data!.linkedAccounts;
    expect(codeOf(await world.send(OAUTH_OPS.unlink, { id: remaining.id }, token))).toBe('LAST_SIGN_IN_METHOD');

    // An account with a password may drop its only link.
    const withPassword = await registerAccount(world.api);
    const linked = await link(world.send, withPassword.accessToken, 'acme', world.authorizeAs(await world.opAccount()));
    expect((await world.send(OAUTH_OPS.unlink, { id: linked.data!.completeOAuthLink.id }, withPassword.accessToken)).data?.unlinkAccount).toBe(true);
  });

  test('a link of another account cannot be removed or seen', async () => {
    const owner = await registerAccount(world.api);
    const other = await registerAccount(world.api);
    const linked = (await link(world.send, owner.accessToken, 'acme', world.authorizeAs(await world.opAccount()))).data!.completeOAuthLink;
    const res = await world.send(OAUTH_OPS.unlink, { id: linked.id }, other.accessToken);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect((await world.send(OAUTH_OPS.linked, {}, other.accessToken)).data?.linkedAccounts).toEqual([]);
    expect(await links(owner.id)).toHaveLength(1);
    // Positive control: its owner can.
    expect((await world.send(OAUTH_OPS.unlink, { id: linked.id }, owner.accessToken)).data?.unlinkAccount).toBe(true);
  });
});
