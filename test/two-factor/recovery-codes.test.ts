import { randomBytes } from 'node:crypto';
import { Encryptor } from '../../src/crypto/encryption';
import { generateRecoveryCode, generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from '../../src/two-factor/recovery-codes';

const SHAPE = /^[0-9abcdefghjkmnpqrstvwxyz]{5}-[0-9abcdefghjkmnpqrstvwxyz]{5}$/;

test('codes are xxxxx-xxxxx from an alphabet without i, l, o or u', () => {
  for (let i = 0; i < 500; i++) expect(generateRecoveryCode()).toMatch(SHAPE);
});

test('a set holds distinct codes', () => {
  const codes = generateRecoveryCodes(10);
  expect(codes).toHaveLength(10);
  expect(new Set(codes).size).toBe(10);
});

test('every symbol of the alphabet turns up (no bias toward a subset)', () => {
  const seen = new Set(generateRecoveryCodes(400).join('').replace(/-/g, ''));
  expect(seen.size).toBe(32);
});

test('typed input is forgiven case, spaces, the hyphen and look-alike letters', () => {
  expect(normalizeRecoveryCode('ab0c1-2defg')).toBe('ab0c12defg');
  expect(normalizeRecoveryCode(' AB0C1 2DEFG ')).toBe('ab0c12defg');
  expect(normalizeRecoveryCode('abOcI2deFg')).toBe('ab0c12defg');
  expect(normalizeRecoveryCode('abocl-2defg')).toBe('ab0c12defg');
});

test('input that cannot be a code is refused before any lookup', () => {
  for (const bad of ['', '123456', 'abcde-fghj', 'abcde-fghjkm', 'uuuuu-uuuuu', 'abcde_fghjk', 'abcde-fghj!']) {
    expect(normalizeRecoveryCode(bad)).toBeNull();
  }
});

test('the stored hash depends on the account, so one row never matches another account', () => {
  const code = normalizeRecoveryCode(generateRecoveryCode())!;
  const pepper = new Encryptor(randomBytes(32));
  const a = hashRecoveryCode(pepper, '11111111-1111-1111-1111-111111111111', code);
  const b = hashRecoveryCode(pepper, '22222222-2222-2222-2222-222222222222', code);
  expect(a).toMatch(/^[0-9a-f]{64}$/);
  expect(a).not.toBe(b);
  expect(a).not.toContain(code);
});
