import type { Logger } from 'pino';
import type { CoreConfig } from '../config/core-config';
import type { SigningKeys } from '../tokens/signing-keys';
import { InjectionToken } from './container';

/** Container tokens of kernel values that have no class of their own. */
export const CoreConfigToken = new InjectionToken<CoreConfig>('CoreConfig');
export const LoggerToken = new InjectionToken<Logger>('Logger');
export const SigningKeysToken = new InjectionToken<SigningKeys>('SigningKeys');
