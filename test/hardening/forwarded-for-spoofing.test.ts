import { randomInt } from 'node:crypto';
import { registerAccount, REGISTER, uniqueEmail } from '../support/accounts';
import { operation } from '../support/operations';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { isolated, login, unknownIdentifier, wrongPassword } from '../abuse/abuse.helpers';

/**
 * Threat: with TRUST_PROXY >= 1 the service reads the client address from X-Forwarded-For, a header
 * the client writes. A made-up entry must neither break requests nor choose the client's address.
 */
const IP_BUDGET = 3;
const SESSIONS = operation('Sessions');

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(isolated({ TRUST_PROXY: '1', IP_FAILURES_PER_WINDOW: String(IP_BUDGET) }));
});
afterAll(() => server.stop());

/** The address the service recorded for a session opened (register) with this X-Forwarded-For. */
async function recordedAddress(forwardedFor: string): Promise<{ code?: string; ip?: string }> {
  const res = await server.gql(
    REGISTER,
    { input: { email: uniqueEmail('xff'), password: `Tr0ub4dor&3-${randomInt(1e9)}` } },
    undefined,
    { 'x-forwarded-for': forwardedFor },
  );
  if (res.errors) return { code: codeOf(res) };
  const sessions = await server.gql(SESSIONS, {}, res.data!.register.accessToken);
  return { ip: sessions.data?.sessions[0]?.ipAddress };
}

const randomIPv4 = (): string => `${randomInt(1, 224)}.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

describe('X-Forwarded-For entries that are not IP addresses', () => {
  test.each([
    ['an over-long ::ffff: entry', `::ffff:${'a'.repeat(80)}`],
    ['a ::ffff: prefix before a name', '::ffff:attacker.example'],
    ['a host name', 'not-an-ip'],
    ['five octets', '10.0.0.1.5'],
    ['an IPv4 with a port', '203.0.113.9:8080'],
    ['an IPv6 address with an over-long zone id', `fe80::1%${'a'.repeat(80)}`],
  ])('%s is ignored: the socket address is used and the request succeeds', async (_name, entry) => {
    expect(await recordedAddress(entry)).toEqual({ ip: '127.0.0.1' });
  });

  test.each([
    ['an IPv4 address', '203.0.113.9', '203.0.113.9'],
    ['an IPv4-mapped IPv6 address (normalised to IPv4)', '::ffff:203.0.113.10', '203.0.113.10'],
    ['an IPv6 address', '2001:db8::7', '2001:db8::7'],
    ['an IPv6 address in long form (canonicalised)', '2001:0DB8:0000:0000::0007', '2001:db8::7'],
    ['an IPv4-mapped address in hex (normalised to IPv4)', '::ffff:cb00:710b', '203.0.113.11'],
  ])('positive control: %s from the trusted hop is used', async (_name, entry, expected) => {
    expect(await recordedAddress(entry)).toEqual({ ip: expected });
  });
});

test('entries a client prepends to X-Forwarded-For do not buy a fresh address budget', async () => {
  // TRUST_PROXY=1: the proxy appended the address it saw (the rightmost entry); the client wrote the rest.
  const proxySaw = '198.51.100.7';
  for (let i = 0; i < IP_BUDGET; i++) {
    const res = await login(server, unknownIdentifier(), wrongPassword(), { 'x-forwarded-for': `${randomIPv4()}, ${randomIPv4()}, ${proxySaw}` });
    expect(codeOf(res)).toBe('INVALID_CREDENTIALS');
  }
  // A fresh made-up leftmost entry (what a server reading the leftmost entry would take) changes nothing.
  const spoofed = await login(server, unknownIdentifier(), wrongPassword(), { 'x-forwarded-for': `${randomIPv4()}, ${proxySaw}` });
  expect(codeOf(spoofed)).toBe('RATE_LIMITED');

  // Positive control: another client behind the same proxy still has its own budget.
  const other = await login(server, unknownIdentifier(), wrongPassword(), { 'x-forwarded-for': `${randomIPv4()}, 198.51.100.8` });
  expect(codeOf(other)).toBe('INVALID_CREDENTIALS');
  // ...and the right password of a real account still signs in from a fresh trusted address.
  const account = await registerAccount(server);
  const signedIn = await login(server, account.email, account.password, { 'x-forwarded-for': '198.51.100.9' });
  expect(signedIn.data?.login.__typename).toBe('AuthPayload');
});
