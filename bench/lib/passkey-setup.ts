import { createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import { CEREMONY_TTL_SECONDS } from '../../src/passkeys/ceremonies';
import { defaultPasskeyName } from '../../src/passkeys/passkey-names';
import type { BenchContext } from './context';
import { dataOf, gql, inParallel } from './graphql-client';
import { graphQLBody } from './requests';
import { SEED_PASSWORD, TokenMint } from './seed';
import { BENCH_WEBAUTHN } from './servers';
import { coseEs256, newCredential, SoftAuthenticator, type SoftCredential } from './soft-authenticator';

export const START_PASSKEY_LOGIN = 'mutation StartPasskeyLogin { startPasskeyLogin { challengeId options expiresIn } }';
export const FINISH_PASSKEY_LOGIN =
  'mutation FinishPasskeyLogin($challengeId: ID!, $response: JSONObject!) { finishPasskeyLogin(challengeId: $challengeId, response: $response) { accessToken refreshToken } }';
const START_REGISTRATION = 'mutation StartPasskeyRegistration($password: String) { startPasskeyRegistration(password: $password) { challengeId options } }';
const FINISH_REGISTRATION =
  'mutation FinishPasskeyRegistration($challengeId: ID!, $response: JSONObject!) { finishPasskeyRegistration(challengeId: $challengeId, response: $response) { id } }';

/** Random bytes of a stored user handle and of a ceremony's challenge (src/passkeys/passkey-store.ts, ceremonies.ts). */
const USER_HANDLE_BYTES = 32;
const CHALLENGE_BYTES = 32;
/** The AAGUID the bench's authenticator reports (none: all zeros), as simplewebauthn writes it. */
const NO_AAGUID = '00000000-0000-0000-0000-000000000000';
/** What the bench's authenticator is: a platform key on one device, not synced. */
const TRANSPORTS = ['internal'];
const DEVICE_TYPE = 'singleDevice';
const SETUP_PARALLEL = 4;

/** The browser of a web page on the bench's relying party. */
export const benchAuthenticator = (): SoftAuthenticator => new SoftAuthenticator(BENCH_WEBAUTHN.origin);

export interface PasskeyAccount {
  userId: string;
  email: string;
  credential: SoftCredential;
}

/** A sign-in ceremony: its id and the challenge (base64url) the assertion must sign. */
export interface SignInCeremony {
  challengeId: string;
  challenge: string;
}

/**
 * Seeds `n` accounts `<prefix><i>@bench.test` and registers a passkey for each through the API
 * (startPasskeyRegistration with the password, the authenticator's attestation, finish).
 */
export async function registerThroughApi(ctx: BenchContext, authenticator: SoftAuthenticator, prefix: string, n: number): Promise<PasskeyAccount[]> {
  const origin = ctx.service.origin;
  await ctx.db.seedUsers(1, n, ctx.seedHash, prefix);
  const mint = new TokenMint(ctx.keys.jwtPrivateKeyPem, await ctx.db.openSessions(n, prefix));
  return inParallel(mint.tokens(), SETUP_PARALLEL, async (token, i) => {
    const start = dataOf<{ startPasskeyRegistration: { challengeId: string; options: Record<string, unknown> } }>(
      await gql(origin, START_REGISTRATION, { password: SEED_PASSWORD }, token),
      'startPasskeyRegistration',
    ).startPasskeyRegistration;
    const response = authenticator.register(start.options);
    dataOf(await gql(origin, FINISH_REGISTRATION, { challengeId: start.challengeId, response }, token), 'finishPasskeyRegistration');
    const credential = authenticator.credentials.find((c) => c.id.toString('base64url') === response.id)!;
    return { userId: mint.sessions[i].userId, email: mint.sessions[i].email, credential };
  });
}

/** The passkeys row registration stores for `credential` (src/passkeys/passkey-store.ts insert; counter 0). */
function passkeyRow(credential: SoftCredential): { credentialId: string; publicKey: Buffer; name: string } {
  return {
    credentialId: credential.id.toString('base64url'),
    publicKey: coseEs256(createPublicKey(credential.privateKey)),
    name: defaultPasskeyName(NO_AAGUID, false),
  };
}

/**
 * Throws unless the rows registration stored for `account` are what seedPasskeys writes for the
 * same credential: the check that seeded passkeys are passkeys the API would have made.
 */
export async function checkSeedingMatches(ctx: BenchContext, account: PasskeyAccount): Promise<void> {
  const [row] = await ctx.db.query<{ credential_id: string; public_key: Buffer; counter: string; transports: string[]; name: string; aaguid: string; device_type: string; backed_up: boolean; handle: Buffer }>(
    `SELECT p.credential_id, p.public_key, p.counter, p.transports, p.name, p.aaguid, p.device_type, p.backed_up, h.handle
       FROM passkeys p JOIN webauthn_user_handles h ON h.user_id = p.user_id WHERE p.user_id = $1`,
    [account.userId],
  );
  const seeded = passkeyRow(account.credential);
  const stored = { credentialId: row?.credential_id, publicKey: row?.public_key, name: row?.name };
  const same =
    row &&
    stored.credentialId === seeded.credentialId &&
    Buffer.compare(row.public_key, seeded.publicKey) === 0 &&
    row.name === seeded.name &&
    Number(row.counter) === 0 &&
    JSON.stringify(row.transports) === JSON.stringify(TRANSPORTS) &&
    row.aaguid === NO_AAGUID &&
    row.device_type === DEVICE_TYPE &&
    row.backed_up === false &&
    row.handle.length === USER_HANDLE_BYTES &&
    row.handle.toString('base64url') === account.credential.userHandle;
  if (!same) throw new Error(`a registered passkey's rows differ from what the bench seeds: ${JSON.stringify({ row, seeded })}`);
}

/**
 * Accounts <prefix>1..<prefix><n>, each with a user handle and one passkey of a new ES256 key,
 * written straight into the database the way registration stores them (checkSeedingMatches):
 * a passkey sign-in per account without an attestation and a password re-check (a bcrypt) each.
 */
export async function seedPasskeys(ctx: BenchContext, prefix: string, n: number): Promise<PasskeyAccount[]> {
  await ctx.db.seedUsers(1, n, ctx.seedHash, prefix);
  const users = await ctx.db.query<{ id: string; email: string }>(`SELECT id, email FROM users WHERE email ~ ('^' || $1 || '[0-9]+@bench\\.test$')`, [prefix]);
  const accounts = users.map((u) => ({
    userId: u.id,
    email: u.email,
    credential: newCredential(BENCH_WEBAUTHN.rpId, randomBytes(USER_HANDLE_BYTES).toString('base64url')).credential,
  }));
  const ids = accounts.map((a) => a.userId);
  await ctx.db.query('INSERT INTO webauthn_user_handles (user_id, handle) SELECT * FROM unnest($1::uuid[], $2::bytea[])', [
    ids,
    accounts.map((a) => Buffer.from(a.credential.userHandle, 'base64url')),
  ]);
  const rows = accounts.map((a) => passkeyRow(a.credential));
  await ctx.db.query(
    `INSERT INTO passkeys (user_id, credential_id, public_key, counter, transports, name, aaguid, device_type, backed_up)
     SELECT x.user_id, x.credential_id, x.public_key, 0, $4::text[], x.name, $5::uuid, $6, false
       FROM unnest($1::uuid[], $2::text[], $3::bytea[], $7::text[]) AS x(user_id, credential_id, public_key, name)`,
    [ids, rows.map((r) => r.credentialId), rows.map((r) => r.publicKey), TRANSPORTS, NO_AAGUID, DEVICE_TYPE, rows.map((r) => r.name)],
  );
  await ctx.db.query('ANALYZE passkeys');
  return accounts;
}

/** `n` sign-in ceremonies, made here (random challenges) and stored later by storeCeremonies. */
export function newCeremonies(n: number): SignInCeremony[] {
  return Array.from({ length: n }, () => ({ challengeId: randomUUID(), challenge: randomBytes(CHALLENGE_BYTES).toString('base64url') }));
}

/** Stores ceremonies as startPasskeyLogin does (kind sign_in, no account, 5 minutes from now). */
export async function storeCeremonies(ctx: BenchContext, ceremonies: SignInCeremony[]): Promise<void> {
  await ctx.db.query(
    `INSERT INTO passkey_challenges (id, kind, user_id, binding, challenge, expires_at)
     SELECT x.id, 'sign_in', NULL, NULL, x.challenge, now() + make_interval(secs => $3) FROM unnest($1::uuid[], $2::text[]) AS x(id, challenge)`,
    [ceremonies.map((c) => c.challengeId), ceremonies.map((c) => c.challenge), CEREMONY_TTL_SECONDS],
  );
}

/** What the bench compares between a ceremony the API stored and a seeded one. */
export async function ceremonyShape(ctx: BenchContext, challengeId: string): Promise<string> {
  const [row] = await ctx.db.query<Record<string, unknown>>(
    `SELECT kind, user_id, binding, length(challenge) AS challenge_chars, round(extract(epoch FROM expires_at - created_at)) AS ttl_s
       FROM passkey_challenges WHERE id = $1`,
    [challengeId],
  );
  return JSON.stringify(row ?? null);
}

/** A ceremony started through the API (startPasskeyLogin). */
export async function startThroughApi(origin: string): Promise<SignInCeremony> {
  const start = dataOf<{ startPasskeyLogin: { challengeId: string; options: { challenge: string } } }>(await gql(origin, START_PASSKEY_LOGIN), 'startPasskeyLogin').startPasskeyLogin;
  return { challengeId: start.challengeId, challenge: start.options.challenge };
}

/** finishPasskeyLogin's variables: the account's user-verified assertion over the ceremony's challenge. */
export function finishVariables(authenticator: SoftAuthenticator, account: PasskeyAccount, ceremony: SignInCeremony): Record<string, unknown> {
  const response = authenticator.assert({ rpId: BENCH_WEBAUTHN.rpId, challenge: ceremony.challenge }, { credential: account.credential });
  return { challengeId: ceremony.challengeId, response };
}

/** A finishPasskeyLogin request body, signed now (before any timed run). */
export const finishBody = (authenticator: SoftAuthenticator, account: PasskeyAccount, ceremony: SignInCeremony): string =>
  graphQLBody(FINISH_PASSKEY_LOGIN, finishVariables(authenticator, account, ceremony));
