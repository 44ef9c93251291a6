import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/app/config';
import { ConfigError } from '../../src/config/parse';

/** The least a production start needs: fresh keys, a mail server, no database (config does not connect). */
export function productionEnv(): Record<string, string> {
  return {
    NODE_ENV: 'production',
    JWT_PRIVATE_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    // Passkeys are bound to a domain that production must name (or take from APP_URL).
    WEBAUTHN_RP_ID: 'app.example.com',
    WEBAUTHN_ORIGINS: 'https://app.example.com',
    SMTP_URL: 'smtp://mail.example.com:587',
    APP_URL: 'https://app.example.com',
    MAIL_FROM: 'Bouncer <no-reply@example.com>',
  };
}

/** The variable a ConfigError names for this environment, or undefined when it loads. */
export function refusedVariable(env: Record<string, string>): string | undefined {
  try {
    loadConfig(env);
    return undefined;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.variable;
  }
}
