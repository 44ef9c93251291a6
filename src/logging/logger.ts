import pino, { type DestinationStream, type Logger } from 'pino';
import type { CoreConfig } from '../config/core-config';
import { withoutDatabaseValues } from '../errors/database-errors';

/**
 * Field names that hold a secret wherever they appear in a log object: the transport's and the
 * kernel's here; each module adds its own (FeatureModule.secretFields).
 */
const KERNEL_SECRET_FIELDS = [
  'token',
  'authorization',
  'cookie',
  'set-cookie',
  'variables',
  'jwtPrivateKeyPem',
  'encryptionKey',
  'encryptionPreviousKeys',
];

/**
 * Paths that may hold a secret in a log object, up to three levels deep (pino's `*` matches one
 * level); pino replaces them before writing. The request log line never carries bodies or query
 * strings in the first place: this is the net under it.
 */
export function redactPaths(moduleSecretFields: readonly string[]): string[] {
  return [...new Set([...KERNEL_SECRET_FIELDS, ...moduleSecretFields])].flatMap((field) => {
    const key = /^[A-Za-z_$][\w$]*$/.test(field) ? field : `["${field}"]`;
    const join = (prefix: string) => (key.startsWith('[') ? `${prefix}${key}` : `${prefix}.${key}`);
    return [key, join('*'), join('*.*')];
  });
}

export function createLogger(config: Pick<CoreConfig, 'logLevel'>, secretFields: readonly string[], destination?: DestinationStream): Logger {
  const options = {
    level: config.logLevel,
    base: { service: 'bouncer' },
    redact: { paths: redactPaths(secretFields), censor: '[redacted]' },
    // A failed statement's bind parameters and failing row are data, not diagnostics: never logged.
    serializers: { err: (error: unknown) => withoutDatabaseValues(pino.stdSerializers.err(error as Error)) },
  };
  return destination ? pino(options, destination) : pino(options);
}
