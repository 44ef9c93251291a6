import { Writable } from 'node:stream';
import { moduleSecretFields } from '../../src/app/bootstrap';
import { createLogger } from '../../src/logging/logger';

/** A logger as the service builds it, writing into memory. */
function capture(): { logger: ReturnType<typeof createLogger>; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger({ logLevel: 'info' }, moduleSecretFields(), destination), text: () => chunks.join('') };
}

test('redacts secrets that a careless log call hands over, up to three levels deep', () => {
  const { logger, text } = capture();
  logger.info(
    {
      password: 'top-level-password',
      input: { identifier: 'a@example.com', password: 'nested-password', newPassword: 'nested-new-password' },
      variables: { input: { password: 'in-variables' } },
      req: { headers: { authorization: 'Bearer header.token.value', cookie: 'sid=cookie-value' } },
      payload: { accessToken: 'access.token.value', refreshToken: 'refresh-token-value', challengeToken: 'challenge-token-value' },
      setup: { secret: 'JBSWY3DPEHPK3PXP', otpauthUrl: 'otpauth://totp/x?secret=JBSWY3DPEHPK3PXP' },
      twoFactor: { code: '123456', codes: ['recovery-one', 'recovery-two'] },
    },
    'careless',
  );
  const written = text();
  for (const secret of [
    'top-level-password',
    'nested-password',
    'nested-new-password',
    'in-variables',
    'header.token.value',
    'cookie-value',
    'access.token.value',
    'refresh-token-value',
    'challenge-token-value',
    'JBSWY3DPEHPK3PXP',
    '123456',
    'recovery-one',
  ]) {
    expect({ secret, found: written.includes(secret) }).toEqual({ secret, found: false });
  }
  // What is not secret stays readable.
  expect(JSON.parse(written).input.identifier).toBe('a@example.com');
  expect(JSON.parse(written).msg).toBe('careless');
});
