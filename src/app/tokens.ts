import type { Logger } from 'pino';
import type { CoreConfig } from '../config/core-config';
import type { FeatureModule } from '../module';
import type { SigningKeys } from '../tokens/signing-keys';
import { InjectionToken } from './container';

/** Container tokens of kernel values that have no class of their own. */
export const CoreConfigToken = new InjectionToken<CoreConfig>('CoreConfig');
export const LoggerToken = new InjectionToken<Logger>('Logger');
/** The one catalogue of error codes (core and every module), joined at start. */
export const ErrorCatalogueToken = new InjectionToken<Readonly<Record<string, string>>>('ErrorCatalogue');
export const SigningKeysToken = new InjectionToken<SigningKeys>('SigningKeys');
/** The feature modules in list order, for a module that gathers what the others contribute (myData). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const ModulesToken = new InjectionToken<ReadonlyArray<FeatureModule<any>>>('Modules');
