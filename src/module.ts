import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ThrottlePolicy } from './abuse/throttle-policy';
import type { Container } from './app/container';
import type { Env } from './config/parse';
import type { CoreConfig } from './config/core-config';
import type { ErrorCatalogue } from './errors/app-error';
import type { SecondFactor } from './sign-in/second-factor';
import type { CleanupJob } from './maintenance/cleanup-job';

/** A plain HTTP endpoint a module serves beside /graphql (a page, its script): exact path match. */
export interface HttpRoute {
  readonly path: string;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> | void;
}

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
  /** Second factors the module provides to the sign-in pipeline. */
  secondFactors?(container: Container): SecondFactor[];
  /** HTTP endpoints besides /graphql (after the security headers; the paths of the core win). */
  routes?(container: Container, config: C): HttpRoute[];
  /** Started after every module registered (background work); stopped at shutdown, in reverse order. */
  start?(container: Container): Promise<void> | void;
  stop?(container: Container): Promise<void> | void;
}

export function defineModule<C>(module: FeatureModule<C>): FeatureModule<C> {
  return module;
}
