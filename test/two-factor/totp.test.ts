import { Secret, TOTP } from 'otpauth';
import { base32Decode, base32Encode, constantTimeEqual, hotp, timeStep, totp, verifyTotp, type TotpAlgorithm } from '../../src/two-factor/totp';

const SEED_SHA1 = Buffer.from('12345678901234567890', 'ascii');
const SEED_SHA256 = Buffer.from('12345678901234567890123456789012', 'ascii');
const SEED_SHA512 = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii');

describe('RFC 6238 Appendix B test vectors (8 digits, 30 s)', () => {
  const vectors: Array<[number, string, string, string]> = [
    // T (seconds), SHA1, SHA256, SHA512
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  test.each(vectors)('T=%d gives the SHA1, SHA256 and SHA512 codes of the RFC', (t, sha1, sha256, sha512) => {
    expect(totp(SEED_SHA1, t, { digits: 8, algorithm: 'SHA1' })).toBe(sha1);
    expect(totp(SEED_SHA256, t, { digits: 8, algorithm: 'SHA256' })).toBe(sha256);
    expect(totp(SEED_SHA512, t, { digits: 8, algorithm: 'SHA512' })).toBe(sha512);
  });
});

test('RFC 4226 Appendix D HOTP values (counters 0 to 9, dynamic truncation)', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  expect(expected.map((_, counter) => hotp(SEED_SHA1, counter))).toEqual(expected);
});

describe('base32 (RFC 4648 section 10 vectors)', () => {
  const vectors: Array<[string, string]> = [
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ];
  test.each(vectors)('%j encodes to %s without padding and decodes back', (plain, encoded) => {
    expect(base32Encode(Buffer.from(plain))).toBe(encoded);
    expect(base32Decode(encoded).toString()).toBe(plain);
  });

  test('decoding forgives padding, lower case and the spaces apps show', () => {
    expect(base32Decode('MZXW6YTBOI======').toString()).toBe('foobar');
    expect(base32Decode('mzxw 6ytb oi').toString()).toBe('foobar');
  });

  test('decoding refuses characters outside the alphabet', () => {
    expect(() => base32Decode('MZXW1')).toThrow();
    expect(() => base32Decode('MZ!W')).toThrow();
  });

  test('round-trips random secrets the same way otpauth reads them', () => {
    for (let i = 0; i < 50; i++) {
      const bytes = new Secret({ size: 20 }).bytes;
      const encoded = base32Encode(bytes);
      expect(Buffer.from(Secret.fromBase32(encoded).bytes)).toEqual(Buffer.from(bytes));
      expect(base32Decode(encoded)).toEqual(Buffer.from(bytes));
    }
  });
});

test('agrees with otpauth on 6-digit codes for every algorithm', () => {
  const algorithms: TotpAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];
  for (const algorithm of algorithms) {
    const secret = new Secret({ size: 20 });
    for (const timestamp of [0, 29_999, 30_000, 1_700_000_000_000, Date.now()]) {
      const theirs = TOTP.generate({ secret, algorithm, digits: 6, period: 30, timestamp });
      expect(totp(secret.bytes, timestamp / 1000, { algorithm })).toBe(theirs);
    }
  }
});

describe('verifyTotp', () => {
  const secret = SEED_SHA1;
  const now = 1_700_000_015_000; // 15 s into a step, far from either boundary
  const step = timeStep(now);
  const codeAt = (s: number): string => hotp(secret, s);

  test('returns the step of a current code', () => {
    expect(verifyTotp(secret, codeAt(step), { nowMs: now })).toBe(step);
  });

  test('accepts one step either side (clock drift) and returns that step', () => {
    expect(verifyTotp(secret, codeAt(step - 1), { nowMs: now })).toBe(step - 1);
    expect(verifyTotp(secret, codeAt(step + 1), { nowMs: now })).toBe(step + 1);
  });

  test('refuses a code two steps old or two steps ahead', () => {
    expect(verifyTotp(secret, codeAt(step - 2), { nowMs: now })).toBeNull();
    expect(verifyTotp(secret, codeAt(step + 2), { nowMs: now })).toBeNull();
  });

  test('window 0 accepts the current step only', () => {
    expect(verifyTotp(secret, codeAt(step), { nowMs: now, window: 0 })).toBe(step);
    expect(verifyTotp(secret, codeAt(step - 1), { nowMs: now, window: 0 })).toBeNull();
  });

  test('refuses malformed codes without guessing', () => {
    for (const bad of ['', '12345', '1234567', 'abcdef', ' 123456', '12345x', codeAt(step) + '0']) {
      expect(verifyTotp(secret, bad, { nowMs: now })).toBeNull();
    }
  });

  test("refuses another secret's code", () => {
    const other = Buffer.from('abcdefghijabcdefghij');
    expect(verifyTotp(secret, hotp(other, step), { nowMs: now })).toBeNull();
  });
});

test('constantTimeEqual compares by value and refuses length differences', () => {
  expect(constantTimeEqual('123456', '123456')).toBe(true);
  expect(constantTimeEqual('123456', '123457')).toBe(false);
  expect(constantTimeEqual('123456', '1234567')).toBe(false);
  expect(constantTimeEqual('', '')).toBe(true);
});
