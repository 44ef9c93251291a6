import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readTracingConfig } from '../../src/observability/tracing.config';
import { REGISTER } from '../support/accounts';
import { refusedVariable } from '../support/config-env';
import { operation } from '../support/operations';
import { startServiceProcess, type ServiceProcess } from '../support/service-process';
import { postGraphQL, testEnv, type GraphQLResponse } from '../support/test-server';
import { Authenticator, operation as twoFactorOperation } from '../two-factor/two-factor.helpers';

jest.setTimeout(90_000);

/** A local OTLP/HTTP receiver: keeps every export body as it arrived (JSON, the exporter's default). */
class Receiver {
  readonly bodies: string[] = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') this.bodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  spans(): Array<{ name: string; kind: number; scope: string; attributes: Record<string, unknown> }> {
    return this.bodies.flatMap((body) =>
      (JSON.parse(body).resourceSpans ?? []).flatMap((rs: any) =>
        rs.scopeSpans.flatMap((ss: any) =>
          ss.spans.map((s: any) => ({
            name: s.name,
            kind: s.kind,
            scope: ss.scope.name,
            attributes: Object.fromEntries((s.attributes ?? []).map((a: any) => [a.key, Object.values(a.value)[0]])),
          })),
        ),
      ),
    );
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe('configuration', () => {
  test('off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; a bad value is refused naming the variable', () => {
    expect(readTracingConfig({})).toBeNull();
    expect(readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=a%3Db' })).toEqual({
      endpoint: 'http://collector:4318',
      headers: { 'x-api-key': 'a=b' },
      serviceName: 'bouncer',
      sampleRatio: 1,
    });
    expect(refusedVariable({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toBe('OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(refusedVariable({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER_ARG: '2' })).toBe('OTEL_TRACES_SAMPLER_ARG');
  });
});

describe('a secret in a span', () => {
  const receiver = new Receiver();
  let service: ServiceProcess;
  const secrets: string[] = [];
  let send: (query: string, variables?: Record<string, unknown>, token?: string) => Promise<GraphQLResponse<Record<string, any>>>;

  beforeAll(async () => {
    const endpoint = await receiver.start();
    service = await startServiceProcess(testEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'bouncer-test', RATE_LIMIT_KEY_PREFIX: `t-trace-${process.pid}` }));
    send = (query, variables = {}, token) => postGraphQL(service.url, query, variables, token);
  });
  afterAll(async () => {
    if (service.child.exitCode === null) await service.stop();
    await receiver.stop();
  });

  test('HTTP, GraphQL and PostgreSQL spans are exported, and none holds a password, token or code', async () => {
    const email = `trace-${process.pid}-${Date.now()}@example.com`;
    const password = `Tracing-Secret-${Date.now()}-pw`;
    const registered = (await send(REGISTER, { input: { email, password } })).data!.register;
    secrets.push(password, registered.accessToken, registered.refreshToken);
    const refreshed = (await send(operation('RefreshToken'), { refreshToken: registered.refreshToken })).data!.refreshToken;
    secrets.push(refreshed.accessToken, refreshed.refreshToken);
    const setup = (await send(twoFactorOperation('EnableTwoFactor'), { password }, refreshed.accessToken)).data!.enableTwoFactor;
    secrets.push(setup.secret);
    const authenticator = new Authenticator(setup.secret);
    const code = await authenticator.next();
    const confirmed = (await send(twoFactorOperation('ConfirmTwoFactor'), { code }, refreshed.accessToken)).data!.confirmTwoFactor;
    secrets.push(code, ...confirmed.codes);
    const login = (await send(operation('Login'), { input: { identifier: email, password } })).data!.login;
    secrets.push(login.challengeToken);
    // A password written into the document itself, and a secret in a GET query string that fails coercion.
    const literal = `Literal-Secret-${Date.now()}`;
    secrets.push(literal);
    await send(`mutation { login(input: { identifier: "${email}", password: "${literal}" }) { __typename } }`);
    const inQuery = `Query-String-Secret-${Date.now()}`;
    secrets.push(inQuery);
    const get = await fetch(`${service.url}?query=${encodeURIComponent('query Q($n: Int) { users(first: $n) { totalCount } }')}&variables=${encodeURIComponent(JSON.stringify({ n: inQuery }))}`, {
      headers: { authorization: `Bearer ${refreshed.accessToken}`, 'apollo-require-preflight': 'true' },
    });
    expect(get.status).toBe(400); // the variable is not an Int: graphql-js's message quotes it

    // Stopping flushes what the batch processor holds.
    expect(await service.stop()).toBe(0);
    const spans = receiver.spans();
    const raw = receiver.bodies.join('\n');

    // Positive control: the three instrumentations reported, with the service's name.
    const scopes = new Set(spans.map((s) => s.scope));
    expect([...scopes]).toEqual(expect.arrayContaining(['@opentelemetry/instrumentation-http', '@opentelemetry/instrumentation-graphql', '@opentelemetry/instrumentation-pg']));
    expect(raw).toContain('bouncer-test');
    expect(spans.some((s) => s.scope.endsWith('graphql') && s.attributes['graphql.field.name'] === 'login')).toBe(true);
    expect(spans.some((s) => s.scope.endsWith('pg') && String(s.attributes['db.query.text']).startsWith('SELECT'))).toBe(true);
    const server = spans.filter((s) => s.scope.endsWith('http') && s.kind === 2); // SpanKind.SERVER
    expect(server.map((s) => s.attributes['url.path'])).toEqual(Array(7).fill('/graphql'));
    for (const s of server) expect(Object.keys(s.attributes).filter((k) => /query|target|url\.full/.test(k))).toEqual([]);

    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThanOrEqual(6);
      if (raw.includes(secret)) throw new Error(`an exported span holds a secret: ${secret.slice(0, 10)}…`);
    }
    expect(raw).not.toMatch(/authorization/i);
  });
});
