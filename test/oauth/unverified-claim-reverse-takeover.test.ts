import { MailCatcher, tokenOf } from '../mail/mail-catcher';
import { mailEnv, RESET_PASSWORD, requestReset, strongPassword, SUBJECT, VERIFY_EMAIL } from '../email/email.helpers';
import { LOGIN, registerAccount, uniqueEmail } from '../support/accounts';
import { operation } from '../support/operations';
import { codeOf } from '../support/test-server';
import { link, signIn } from './support/oauth-client';
import type { OpAccount } from './support/oidc-op';
import { startOidcWorld, type OidcWorld } from './support/oidc-setup';

/**
 * Reverse account takeover. A provider account that claims someone's address without having proven
 * it creates a Bouncer account holding that address (unverified). The address's real owner later
 * proves the mailbox (the verification mail, or a password reset through the emailed link) and
 * starts using the account; the claimant's provider link, made on the unproven claim, still signed
 * in. At the first proof of the address, every link whose provider did not vouch for that very
 * address goes (audited), and every session of the account ends.
 *
 * Against a real OpenID Provider (oidc-provider over HTTPS) and the built service in a child
 * process, with a real SMTP server in this process catching the mails.
 */
const ME = operation('Me');
let world: OidcWorld;
let catcher: MailCatcher;
beforeAll(async () => {
  catcher = await new MailCatcher().start();
  world = await startOidcWorld(mailEnv(catcher) as Record<string, string>);
}, 60_000);
afterAll(async () => {
  await world?.stop();
  await catcher?.stop();
});

const links = async (userId: string) => (await world.db.query('SELECT provider, subject FROM linked_accounts WHERE user_id = $1 ORDER BY created_at', [userId])).rows;
const audited = async (userId: string, type: string) =>
  (await world.db.query('SELECT data FROM audit_events WHERE user_id = $1 AND type = $2 ORDER BY id', [userId, type])).rows.map((r: { data: Record<string, unknown> }) => r.data);

/** The claimant: a provider account that says it has `email` without having proven it; its sign-in creates the account. */
async function claimAddress(email: string): Promise<{ claimant: OpAccount; userId: string; accessToken: string }> {
  const claimant = await world.opAccount({ email, email_verified: false });
  const res = await signIn(world.send, 'acme', world.authorizeAs(claimant));
  const payload = res.data?.completeOAuthLogin;
  if (!payload?.accessToken) throw new Error(`provider sign-in failed: ${JSON.stringify(res.errors)}`);
  expect(payload.user).toMatchObject({ email, emailVerified: false });
  return { claimant, userId: payload.user.id, accessToken: payload.accessToken };
}

const signInAs = (account: OpAccount) => signIn(world.send, 'acme', world.authorizeAs(account));

test('verifyEmail by the owner: the claimant link goes, its sessions end, and its next sign-in finds no account', async () => {
  const victim = uniqueEmail('victim');
  const { claimant, userId, accessToken } = await claimAddress(victim);
  expect((await signInAs(claimant)).data?.completeOAuthLogin.user.id).toBe(userId); // the link works before the proof

  // The verification mail went to the address: its owner, not the claimant, reads it.
  const mail = await catcher.latest(victim, SUBJECT.verify);
  expect((await world.send(VERIFY_EMAIL, { token: tokenOf(mail) })).data?.verifyEmail).toBe(true);

  expect(await links(userId)).toEqual([]);
  expect(codeOf(await world.send(ME, {}, accessToken))).toBe('UNAUTHENTICATED');
  const again = await signInAs(claimant);
  expect(codeOf(again)).toBe('ACCOUNT_LINK_REQUIRED');
  expect(again.data).toBeNull();
  expect(await audited(userId, 'oauth.unlinked')).toEqual([expect.objectContaining({ provider: 'acme', reason: 'address_proven', providerEmailVerified: false })]);
  expect((await audited(userId, 'session.revoked')).every((d: Record<string, unknown>) => d.reason === 'address_proven')).toBe(true);
  expect((await audited(userId, 'session.revoked')).length).toBeGreaterThanOrEqual(2);

  // Positive control: the owner's own provider account, vouching for the address, now links to it.
  const owner = await world.opAccount({ email: victim, email_verified: true });
  expect((await signInAs(owner)).data?.completeOAuthLogin.user.id).toBe(userId);
});

test('resetPassword by the owner: every link not vouching for the address goes, one to another address added while signed in too', async () => {
  const victim = uniqueEmail('victim');
  const { claimant, userId, accessToken } = await claimAddress(victim);
  // A second way back in, added while signed in: a provider account with the claimant's own verified address.
  const spare = await world.opAccount({ email: uniqueEmail('claimant'), email_verified: true });
  expect((await link(world.send, accessToken, 'acme', world.authorizeAs(spare))).errors).toBeUndefined();
  expect(await links(userId)).toHaveLength(2);

  const mail = await requestReset(world.api, catcher, victim);
  const password = strongPassword();
  expect((await world.send(RESET_PASSWORD, { token: tokenOf(mail), newPassword: password })).data?.resetPassword).toBe(true);

  expect(await links(userId)).toEqual([]);
  expect(codeOf(await signInAs(claimant))).toBe('ACCOUNT_LINK_REQUIRED');
  const viaSpare = await signInAs(spare);
  // The spare provider account finds no link: it gets an account of its own address, not the victim's.
  expect(viaSpare.data?.completeOAuthLogin.user.id).not.toBe(userId);
  expect(viaSpare.data?.completeOAuthLogin.user.email).toBe(spare.email);

  // Positive control: the owner signs in with the new password, and that session lives on.
  const login = await world.send(LOGIN, { input: { identifier: victim, password } });
  expect(login.data?.login.user.id).toBe(userId);
  expect((await world.send(ME, {}, login.data!.login.accessToken)).data?.me.id).toBe(userId);
});

test('positive control: a link whose provider vouched for the same address survives the first proof, and no session ends', async () => {
  const account = await registerAccount(world.api);
  const vouched = await world.opAccount({ email: account.email, email_verified: true });
  expect((await link(world.send, account.accessToken, 'acme', world.authorizeAs(vouched))).errors).toBeUndefined();

  const mail = await catcher.latest(account.email, SUBJECT.verify);
  expect((await world.send(VERIFY_EMAIL, { token: tokenOf(mail) })).data?.verifyEmail).toBe(true);

  expect(await links(account.id)).toEqual([{ provider: 'acme', subject: vouched.id }]);
  expect((await world.send(ME, {}, account.accessToken)).data?.me.id).toBe(account.id);
  expect((await signInAs(vouched)).data?.completeOAuthLogin.user.id).toBe(account.id);
  expect(await audited(account.id, 'oauth.unlinked')).toEqual([]);
});

test('positive control: on an address proven already, a later reset keeps links the owner added (not a first proof)', async () => {
  const account = await registerAccount(world.api);
  await world.db.query('UPDATE users SET email_verified = true WHERE id = $1', [account.id]);
  const elsewhere = await world.opAccount({ email: uniqueEmail('elsewhere'), email_verified: false });
  expect((await link(world.send, account.accessToken, 'acme', world.authorizeAs(elsewhere))).errors).toBeUndefined();

  const mail = await requestReset(world.api, catcher, account.email);
  expect((await world.send(RESET_PASSWORD, { token: tokenOf(mail), newPassword: strongPassword() })).data?.resetPassword).toBe(true);
  expect(await links(account.id)).toEqual([{ provider: 'acme', subject: elsewhere.id }]);
  expect((await signInAs(elsewhere)).data?.completeOAuthLogin.user.id).toBe(account.id);
});
