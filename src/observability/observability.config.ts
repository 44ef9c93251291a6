import type { CoreConfig } from '../config/core-config';
import { ConfigError, int, str, type Env } from '../config/parse';
import { readTracingConfig, type TracingConfig } from './tracing.config';

export interface ObservabilityConfig {
  /** Port of the metrics listener (GET /metrics); null: no metrics. Never the public port. */
  metricsPort: number | null;
  metricsHost: string;
  tracing: TracingConfig | null;
}

export function readObservabilityConfig(env: Env, core: CoreConfig): ObservabilityConfig {
  const metricsPort = str(env, 'METRICS_PORT') === undefined ? null : int(env, 'METRICS_PORT', 0, 0, 65535);
  if (metricsPort !== null && metricsPort !== 0 && metricsPort === core.port) {
    throw new ConfigError('METRICS_PORT', `must differ from PORT (${core.port}): metrics are never served on the public port`);
  }
  return { metricsPort, metricsHost: str(env, 'METRICS_HOST') ?? core.host, tracing: readTracingConfig(env) };
}
