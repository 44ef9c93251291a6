import { readFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { featureConfig, loadConfig } from '../../src/app/config';
import { BouncerMetrics } from '../../src/observability/metrics';
import { observabilityModule } from '../../src/observability/observability.module';
import { passwordModule } from '../../src/password/password.module';
import { promtool } from '../observability/metrics.helpers';

// No Docker engine runs where the tests run: the compose file and Dockerfile are checked as data.
const root = join(__dirname, '..', '..');

interface ComposeService {
  image?: string;
  profiles?: string[];
  volumes?: string[];
  expose?: string[];
  build?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
  ports?: string[];
}

const compose = load(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };

/** ${VAR:-default} and ${VAR:?message} as docker compose expands them, from the given variables. */
function expand(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op: string | undefined, arg: string) => {
    if (vars[name] !== undefined && vars[name] !== '') return vars[name];
    if (op === '?') throw new Error(`compose requires ${name}: ${arg}`);
    return op === '-' ? arg : '';
  });
}

test('runs PostgreSQL with a healthcheck and the service built from the Dockerfile, started once the database is healthy', () => {
  const { postgres, bouncer } = compose.services;
  expect(postgres.image).toMatch(/^postgres:\d+/);
  expect(JSON.stringify(postgres.healthcheck?.test)).toContain('pg_isready');
  expect(bouncer.build).toBe('.');
  expect(bouncer.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  expect(bouncer.ports).toContain('4000:4000');
  expect(JSON.stringify(bouncer.healthcheck?.test)).toContain('/readyz');
});

test('wires an environment the service accepts in production, pointing at the compose database', () => {
  const env = bouncer();
  const secrets = {
    JWT_PRIVATE_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    SMTP_URL: 'smtp://mailer:secret@mail.example.com:587',
    APP_URL: 'https://app.example.com',
    MAIL_FROM: 'Bouncer <no-reply@example.com>',
  };
  const expanded = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, expand(String(v), secrets)]));
  const config = loadConfig(expanded);
  expect(config.isProduction).toBe(true);
  expect(new URL(config.databaseUrl!).hostname).toBe('postgres');
  expect(new URL(config.databaseUrl!).username).toBe(compose.services.postgres.environment!.POSTGRES_USER);
  expect(featureConfig(config, passwordModule).bcryptRounds).toBeGreaterThanOrEqual(10);
});

test('refuses to start the stack without the production secrets instead of generating them', () => {
  const env = bouncer();
  expect(() => expand(env.JWT_PRIVATE_KEY, {})).toThrow(/JWT_PRIVATE_KEY/);
  expect(() => expand(env.ENCRYPTION_KEY, {})).toThrow(/ENCRYPTION_KEY/);
  for (const name of ['SMTP_URL', 'APP_URL', 'MAIL_FROM']) expect(() => expand(env[name], {})).toThrow(new RegExp(name));
});

test('the Dockerfile builds with the lock file and runs the compiled service as a non-root user', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(/RUN npm ci/);
  expect(dockerfile).toMatch(/USER node/);
  expect(dockerfile).toMatch(/CMD \["node", "dist\/src\/main.js"\]/);
});

function bouncer(): Record<string, string> {
  return compose.services.bouncer.environment!;
}

describe('the observability profile', () => {
  const { bouncer: service, prometheus, grafana } = compose.services;
  const secrets = {
    JWT_PRIVATE_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    SMTP_URL: 'smtp://mailer:secret@mail.example.com:587',
    APP_URL: 'https://app.example.com',
    MAIL_FROM: 'Bouncer <no-reply@example.com>',
  };
  const config = () => loadConfig(Object.fromEntries(Object.entries(bouncer()).map(([k, v]) => [k, expand(String(v), secrets)])));
  /** The host path a service mounts at `target`. */
  const mountOf = (s: ComposeService, target: string): string => {
    const volume = (s.volumes ?? []).find((v) => v.split(':')[1] === target);
    if (!volume) throw new Error(`nothing mounted at ${target}`);
    return join(root, volume.split(':')[0]);
  };

  test('Prometheus and Grafana run only with --profile observability; Bouncer and PostgreSQL always', () => {
    expect(prometheus.profiles).toEqual(['observability']);
    expect(grafana.profiles).toEqual(['observability']);
    expect(service.profiles).toBeUndefined();
    expect(compose.services.postgres.profiles).toBeUndefined();
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['promdata', 'grafanadata']));
    // Their UIs are published on loopback only.
    expect(prometheus.ports).toEqual(['127.0.0.1:9090:9090']);
    expect(grafana.ports).toEqual(['127.0.0.1:3000:3000']);
  });

  test('Bouncer serves metrics on a port of its own that is not published, and Prometheus scrapes exactly that port', async () => {
    const { metricsPort } = featureConfig(config(), observabilityModule);
    expect(metricsPort).toBe(9464);
    expect(metricsPort).not.toBe(config().port);
    expect((service.ports ?? []).some((p) => p.split(':').includes(String(metricsPort)))).toBe(false);
    const promConfigPath = mountOf(prometheus, '/etc/prometheus/prometheus.yml');
    const promConfig = load(readFileSync(promConfigPath, 'utf8')) as { scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }> };
    const job = promConfig.scrape_configs.find((j) => j.job_name === 'bouncer')!;
    expect(job.metrics_path ?? '/metrics').toBe('/metrics');
    expect(job.static_configs.flatMap((c) => c.targets)).toEqual([`bouncer:${metricsPort}`]);
    const tool = await promtool();
    if (!tool) return console.warn('SKIPPED: promtool is not installed; prometheus.yml was checked as data only');
    await promisify(execFile)(tool, ['check', 'config', promConfigPath]);
  });

  test('Grafana is provisioned with the Prometheus data source and the dashboard that ships in the repository', () => {
    const provisioning = mountOf(grafana, '/etc/grafana/provisioning');
    const datasources = load(readFileSync(join(provisioning, 'datasources', 'prometheus.yml'), 'utf8')) as { datasources: Array<{ uid: string; type: string; url: string }> };
    expect(datasources.datasources).toEqual([expect.objectContaining({ uid: 'bouncer-prometheus', type: 'prometheus', url: 'http://prometheus:9090' })]);
    const providers = load(readFileSync(join(provisioning, 'dashboards', 'bouncer.yml'), 'utf8')) as { providers: Array<{ options: { path: string } }> };
    expect(providers.providers[0].options.path).toBe('/etc/grafana/dashboards');
    const dashboard = JSON.parse(readFileSync(join(mountOf(grafana, '/etc/grafana/dashboards'), 'bouncer.json'), 'utf8'));
    expect(dashboard.uid).toBe('bouncer-overview');
    const uids = new Set(dashboard.panels.filter((p: { type: string }) => p.type !== 'row').map((p: { datasource: { uid: string } }) => p.datasource.uid));
    expect([...uids]).toEqual(['bouncer-prometheus']);
  });

  test('every dashboard query reads series the service exports, and every series CONTRACT.md lists has a panel', async () => {
    const metrics = new BouncerMetrics({ pool: () => undefined, bcryptQueued: () => 0, outbox: () => undefined });
    const exported = new Set(
      (await metrics.registry.getMetricsAsJSON()).flatMap((m) => (String(m.type) === 'histogram' ? ['_bucket', '_sum', '_count'].map((x) => m.name + x) : [m.name])),
    );
    const dashboard = JSON.parse(readFileSync(join(root, 'deploy', 'grafana', 'dashboards', 'bouncer.json'), 'utf8'));
    const exprs: string[] = dashboard.panels.flatMap((p: { targets?: Array<{ expr: string }> }) => (p.targets ?? []).map((t) => t.expr));
    const PROMQL_WORDS = new Set(['sum', 'by', 'rate', 'increase', 'histogram_quantile', 'clamp_min', 'max', 'le', 'operation', 'outcome', 'method', 'ceremony', 'policy', 'instance', 'state']);
    const used = new Set(exprs.flatMap((e) => e.replace(/\{[^}]*\}|\[[^\]]*\]|"[^"]*"|(?<![a-z0-9_.])\d[\d.]*(e[+-]?\d+)?/g, ' ').match(/[a-z_][a-z0-9_]*/g) ?? []).filter((w) => !PROMQL_WORDS.has(w)));
    for (const name of used) expect({ name, exported: exported.has(name) }).toEqual({ name, exported: true });
    for (const series of [
      'bouncer_graphql_requests_total',
      'bouncer_graphql_request_duration_seconds_bucket',
      'bouncer_logins_total',
      'bouncer_two_factor_total',
      'bouncer_passkey_total',
      'bouncer_refreshes_total',
      'bouncer_rate_limited_total',
      'bouncer_lockouts_total',
      'bouncer_outbox_depth',
      'bouncer_outbox_delivery_failures_total',
      'bouncer_bcrypt_queue_length',
      'bouncer_bcrypt_duration_seconds_bucket',
      'bouncer_db_pool_connections',
      'bouncer_db_pool_waiting',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(used).toContain(series);
    }
  });
});
