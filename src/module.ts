import type { ThrottlePolicy } from './abuse/throttle-policy';
import type { Container } from './app/container';
import type { HttpRoute } from './app/http-route';
import type { Env } from './config/parse';
import type { CoreConfig } from './config/core-config';
import type { ErrorCatalogue } from './errors/app-error';
import type { SecondFactor } from './sign-in/second-factor';
import type { CleanupJob } from './maintenance/cleanup-job';

/**
 * What a feature contributes to the service. A capability (a sign-in method, a second factor,
 * administration) is a folder exporting one of these; `src/app/modules.ts` lists them. Adding a
 * method is that folder, one line in the list and its migration, never edits across the tree.
 */
export interface FeatureModule<C = unknown> {
  readonly name: string;
  /** Reads and validates the module's own environment variables at start (ConfigError names a bad one). */
  readConfig?(env: Env, core: CoreConfig): C;
  /** Builds the module's services and resolvers into the container; modules earlier in the list are there. */
  register?(container: Container, config: C): void;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly resolvers?: Function[];
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly entities?: Function[];
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly migrations?: Function[];
  readonly errors?: ErrorCatalogue;
  /** Audit event types the module writes (`AuditService` refuses any other). */
  readonly auditEvents?: readonly string[];
  /** Rate limits the module's flows apply through `Throttle`. */
  throttlePolicies?(config: C, core: CoreConfig): ThrottlePolicy[];
  /** Field names that hold a secret wherever they appear in a log object. */
  readonly secretFields?: readonly string[];
  /** Pruning the hourly cleanup runs for the module's tables. */
  cleanupJobs?(config: C, core: CoreConfig): CleanupJob[];
  /** Paths the module serves over HTTP besides /graphql (hosted pages), built once its services are registered. */
  routes?(container: Container): HttpRoute[];
  /** Second factors the module provides to the sign-in pipeline. */
  secondFactors?(container: Container): SecondFactor[];
  /** Started after every module registered (background work); stopped at shutdown, in reverse order. */
  start?(container: Container): Promise<void> | void;
  stop?(container: Container): Promise<void> | void;
}

export function defineModule<C>(module: FeatureModule<C>): FeatureModule<C> {
  return module;
}
