import pino, { type Logger } from 'pino';
import type { Config } from '../config/config';

/** Paths that may hold a secret anywhere in a log object; pino replaces them before writing. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'currentPassword',
  '*.currentPassword',
  'newPassword',
  '*.newPassword',
  'refreshToken',
  '*.refreshToken',
  'accessToken',
  '*.accessToken',
  'challengeToken',
  '*.challengeToken',
  'code',
  '*.code',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'variables',
  '*.variables',
];

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'bouncer' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  });
}
