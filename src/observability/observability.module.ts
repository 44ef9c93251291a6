import { DataSource } from 'typeorm';
import { Throttle } from '../abuse/throttle';
import type { Container } from '../app/container';
import { ErrorCatalogueToken, LoggerToken } from '../app/tokens';
import { APOLLO_REQUEST_CODES } from '../errors/format-error';
import { defineModule } from '../module';
import { PasswordCheck } from '../password/password-check';
import { PasswordHasher } from '../password/password-hasher';
import { OutboxMetricsSource } from './metric-sources';
import { BouncerMetrics, type PoolStats } from './metrics';
import { metricsPlugin } from './metrics-plugin';
import { MetricsServer } from './metrics-server';
import { readObservabilityConfig, type ObservabilityConfig } from './observability.config';

/** Every error code the service can send (the joined catalogue and Apollo's request codes): the only values an outcome label may take. */
function knownCodes(c: Container): Set<string> {
  return new Set([...Object.keys(c.get(ErrorCatalogueToken)), ...APOLLO_REQUEST_CODES]);
}

/**
 * Metrics (prom-client) on METRICS_PORT, off when it is unset. Tracing (OpenTelemetry) starts in
 * src/observability/tracing-preload.ts before anything it instruments loads; its variables are
 * read here too so that a bad one stops the start with one line.
 */
export const observabilityModule = defineModule<ObservabilityConfig>({
  name: 'observability',
  readConfig: readObservabilityConfig,
  register(c, config) {
    if (config.metricsPort === null) return;
    const dataSource = c.get(DataSource);
    const metrics = c.set(
      BouncerMetrics,
      new BouncerMetrics({
        pool: () => (dataSource.driver as unknown as { master?: PoolStats }).master,
        bcryptQueued: () => (c.has(PasswordHasher) ? c.get(PasswordHasher).queued : 0),
        // Read at each scrape: the mail module may register its source anywhere in the list.
        outbox: () => (c.has(OutboxMetricsSource) ? c.get(OutboxMetricsSource) : undefined),
      }),
    );
    c.get(Throttle).onLock((policy) => metrics.lockouts.inc({ policy }));
    // The consecutive-failure cap is no throttle policy, but a lockout all the same.
    if (c.has(PasswordCheck)) c.get(PasswordCheck).onLock((lock) => metrics.lockouts.inc({ policy: lock }));
    if (c.has(PasswordHasher)) {
      c.get(PasswordHasher).onJob((waitSeconds, workSeconds) => {
        metrics.bcryptWait.observe(waitSeconds);
        metrics.bcryptDuration.observe(workSeconds);
      });
    }
    c.set(MetricsServer, new MetricsServer(metrics, c.get(LoggerToken), config.metricsHost, config.metricsPort));
  },
  graphqlPlugins: (c) => (c.has(BouncerMetrics) ? [metricsPlugin(c.get(BouncerMetrics), knownCodes(c))] : []),
  async start(c) {
    if (c.has(MetricsServer)) await c.get(MetricsServer).start();
  },
  async stop(c) {
    if (c.has(MetricsServer)) await c.get(MetricsServer).stop();
  },
});
