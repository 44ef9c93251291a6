import { readFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { featureConfig, loadConfig } from '../../src/app/config';
import { passwordModule } from '../../src/password/password.module';

// No Docker engine runs where the tests run: the compose file and Dockerfile are checked as data.
const root = join(__dirname, '..', '..');

interface ComposeService {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
  ports?: string[];
}

const compose = load(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };

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
