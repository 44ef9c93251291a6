import { randomBytes } from 'node:crypto';
import { REGISTER, uniqueEmail } from '../support/accounts';
import { codeOf, startTestServer, type GraphQLResponse, type TestServer } from '../support/test-server';
import { isolated } from '../abuse/abuse.helpers';

/**
 * Threat: passwords that the rules mean to refuse slipped through on a technicality: a common
 * password with a space around it, the service's own name, the email local part behind a
 * plus-address tag, and passwords of (almost) nothing visible but 8 code points.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(isolated());
});
afterAll(() => server.stop());

function register(password: string, email = uniqueEmail('pw')): Promise<GraphQLResponse<Record<string, any>>> {
  return server.gql(REGISTER, { input: { email, password } });
}

function refusedOnPassword(res: GraphQLResponse<unknown>): unknown {
  return { code: codeOf(res), fields: (res.errors?.[0]?.extensions?.fields as Array<{ field: string }> | undefined)?.map((f) => f.field) };
}
const REFUSED = { code: 'BAD_USER_INPUT', fields: ['password'] };
const strong = (): string => `Tr0ub4dor&3-${randomBytes(5).toString('hex')}`;

test.each([
  ['a common password behind a leading space', ' password123'],
  ['a common password between spaces and tabs', '\tpassword123  '],
  ['a common password with a zero-width space inside', 'pass\u200bword123'],
  ['the service name', 'Bouncer2024!'],
  ['the service name in other case', 'my-BOUNCER-login'],
  ['8 zero-width spaces', '\u200b'.repeat(8)],
  ['8 combining marks', '\u0301'.repeat(8)],
  ['2 letters padded with zero-width joiners and spaces', `ab${'\u200d'.repeat(4)}    `],
  ['7 letters and a soft hyphen', 'qzxwvkj\u00ad'],
])('refuses %s', async (_name, password) => {
  expect(refusedOnPassword(await register(password))).toEqual(REFUSED);
});

test('refuses the email local part hidden behind a plus-address tag', async () => {
  const base = `ada${randomBytes(3).toString('hex')}`;
  expect(refusedOnPassword(await register(`${base}-Horse-Battery!`, `${base}+shop@example.com`))).toEqual(REFUSED);
  // Positive control: the same address with a password that does not contain the base.
  expect((await register(strong(), `${base}+shop@example.com`)).errors).toBeUndefined();
});

test.each([
  ['a strong password with spaces around it', () => `  ${strong()}  `],
  ['a passphrase with inner spaces', () => `correct horse battery ${randomBytes(3).toString('hex')}`],
  ['8 visible letters with combining accents', () => 'pa\u0301ssw\u00f6rd-\u00e9t\u00e9'.normalize('NFD') + randomBytes(2).toString('hex')],
  ['8 emoji (grapheme clusters of several code points)', () => '\u{1F469}\u200D\u{1F4BB}'.repeat(8)],
])('positive control: accepts %s', async (_name, password) => {
  const res = await register(password());
  expect(res.errors).toBeUndefined();
  expect(res.data?.register.accessToken).toEqual(expect.any(String));
});
