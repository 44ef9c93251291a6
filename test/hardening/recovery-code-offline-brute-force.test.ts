import { createHmac, randomBytes } from 'node:crypto';
import { normalizeRecoveryCode } from '../../src/two-factor/recovery-codes';
import { registerAccount, type TestAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { isolated } from '../abuse/abuse.helpers';
import { challenge, enrol, verify } from '../two-factor/two-factor.helpers';

/**
 * Threat: recovery codes carry 50 bits and were stored as HMAC-SHA256 keyed by the user id alone,
 * so a database dump was enough to brute-force them offline (2^50 fast hashes). The hash must
 * need a server-side secret (derived from ENCRYPTION_KEY) that a dump does not hold.
 */
const oldKey = randomBytes(32).toString('base64');
const newKey = randomBytes(32).toString('base64');
const prefix = isolated();

let server: TestServer | undefined;
let account: TestAccount;
let codes: string[];

async function restart(env: Record<string, string>): Promise<TestServer> {
  await server?.stop();
  server = await startTestServer({ ...prefix, ...env });
  return server;
}

beforeAll(async () => {
  const s = await restart({ ENCRYPTION_KEY: oldKey });
  account = await registerAccount(s);
  codes = (await enrol(s, account)).recoveryCodes;
});
afterAll(() => server?.stop());

test('a stored recovery-code hash cannot be reproduced from the user id and the code alone', async () => {
  const rows: Array<{ code_hash: string }> = await server!.running.services.dataSource.query('SELECT code_hash FROM recovery_codes WHERE user_id = $1', [account.id]);
  expect(rows).toHaveLength(codes.length);
  const stored = new Set(rows.map((r) => r.code_hash));
  // What an attacker holding a dump computes for each guess: no guess, not even the right one, matches.
  const fromDumpAlone = codes.map((code) => createHmac('sha256', account.id).update(normalizeRecoveryCode(code)!, 'utf8').digest('hex'));
  expect(fromDumpAlone.filter((hash) => stored.has(hash))).toEqual([]);

  // Positive control: the code itself still opens a session.
  const res = await verify(server!, await challenge(server!, account), codes[0]);
  expect(res.errors).toBeUndefined();
  expect(res.data?.verifyTwoFactor.accessToken).toEqual(expect.any(String));
});

test('codes keep working after ENCRYPTION_KEY rotates (old key in ENCRYPTION_PREVIOUS_KEYS), and not without the key', async () => {
  // Without the key that made the hashes, a code cannot be checked: the secret is what protects them.
  const keyless = await restart({ ENCRYPTION_KEY: randomBytes(32).toString('base64') });
  expect(codeOf(await verify(keyless, await challenge(keyless, account), codes[1]))).toBe('INVALID_TWO_FACTOR_CODE');

  const rotated = await restart({ ENCRYPTION_KEY: newKey, ENCRYPTION_PREVIOUS_KEYS: oldKey });
  const res = await verify(rotated, await challenge(rotated, account), codes[1]);
  expect(res.errors).toBeUndefined();
  expect(res.data?.verifyTwoFactor.accessToken).toEqual(expect.any(String));
  // A used code stays used after the rotation.
  expect(codeOf(await verify(rotated, await challenge(rotated, account), codes[0]))).toBe('INVALID_TWO_FACTOR_CODE');
});
