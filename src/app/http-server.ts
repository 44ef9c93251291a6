import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import helmet from 'helmet';
import { Kind, type GraphQLSchema, type ParseOptions, type ValidationRule } from 'graphql';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { CoreConfig } from '../config/core-config';
import { buildContext, type CredentialVerifier, type GraphQLContext } from '../context/context';
import type { SigningKeys } from '../tokens/signing-keys';
import { createFormatError } from '../errors/format-error';
import type { HttpRoute } from '../module';
import { headerMapOf, sendGraphQLResponse } from './apollo-node';
import { clientAddress } from './client-address';
import { nulGuardPlugin } from './nul-guard.plugin';
import { Readiness } from './readiness';

export interface GraphQLExtensions {
  plugins: ApolloServerPlugin<GraphQLContext>[];
  validationRules: ValidationRule[];
  /** Parser limits (maxTokens): checked while parsing, before any validation. */
  parseOptions?: ParseOptions;
}

const MAX_LOGGED_OPERATION_NAME = 100; // characters: the name is the client's choice
const MAX_LOGGED_FIELDS = 10; // root fields named in a request log line

/** What the request log line says about a GraphQL request (never variables or the query text). */
interface GraphQLOutcome {
  operation?: string;
  /** Root fields asked for (`login`, `me`, ...): names anonymous operations too. */
  fields?: string[];
  errors?: string[];
}

/**
 * Fills each request's GraphQLOutcome from what Apollo resolved and what it sent. Keyed by the
 * request's RequestInfo: Apollo hands plugins a shallow copy of the context, not the object built.
 */
function outcomeLogPlugin(outcomes: WeakMap<object, GraphQLOutcome>): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart({ contextValue }) {
      const outcome = outcomes.get(contextValue.request);
      if (!outcome) return;
      return {
        async didResolveOperation({ operationName, operation }) {
          if (operationName) outcome.operation = operationName.slice(0, MAX_LOGGED_OPERATION_NAME);
          const fields = (operation?.selectionSet.selections ?? []).flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []));
          outcome.fields = [...new Set(fields)].slice(0, MAX_LOGGED_FIELDS);
        },
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const codes = (response.body.singleResult.errors ?? []).map((e) => String(e.extensions?.code ?? 'UNKNOWN'));
          if (codes.length) outcome.errors = [...new Set(codes)];
        },
      };
    },
  };
}

export interface HttpApp {
  server: Server;
  /** `apollo.stop()` drains the HTTP server too (stops accepting, lets requests finish within SHUTDOWN_TIMEOUT_MS). */
  apollo: ApolloServer<GraphQLContext>;
}

/** What the HTTP layer needs: the transport settings, the JWKS, readiness and the Bearer check. */
export interface HttpDependencies {
  config: CoreConfig;
  logger: Logger;
  dataSource: DataSource;
  keys: SigningKeys;
  verifier: CredentialVerifier;
  /** The modules' own endpoints (FeatureModule.routes). */
  routes?: readonly HttpRoute[];
}

const GRAPHQL_PATH = '/graphql';
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const CORS_ALLOWED_HEADERS = 'authorization, content-type, apollo-require-preflight, x-apollo-operation-name, apollographql-client-name, apollographql-client-version';
const CORS_MAX_AGE_SECONDS = '600';
const JWKS_MAX_AGE_SECONDS = 300; // other services may cache the key set this long

class BodyTooLargeError extends Error {}

function sendJson(res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...JSON_HEADERS, ...extraHeaders, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function requestError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new BodyTooLargeError();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function createHttpApp(deps: HttpDependencies, schema: GraphQLSchema, extensions: GraphQLExtensions): Promise<HttpApp> {
  const { config, logger } = deps;
  // Created first so Apollo's drain plugin owns its shutdown; requests reach `listener` once it listens.
  const server =
    config.tlsCertFile && config.tlsKeyFile
      ? createHttpsServer({ cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsKeyFile) }, (req, res) => listener(req, res))
      : createHttpServer((req, res) => listener(req, res));
  // Slow-loris bounds: a client must send its headers and body within these.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  // The request line is info-level: below that, none of its bookkeeping runs on the hot path.
  const logRequests = logger.isLevelEnabled('info');
  const outcomes = new WeakMap<object, GraphQLOutcome>();
  const responseOutcomes = new WeakMap<ServerResponse, GraphQLOutcome>();
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: config.introspection,
    csrfPrevention: true,
    // Shutdown is main.ts's: apollo.stop() drains HTTP, then bootstrap closes the pool and the database.
    stopOnTerminationSignals: false,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: config.isProduction,
    formatError: createFormatError({
      isProduction: config.isProduction,
      onMaskedError: (error) => logger.error({ err: error }, 'masked error'),
    }),
    validationRules: extensions.validationRules,
    parseOptions: extensions.parseOptions,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server, stopGracePeriodMillis: config.shutdownTimeoutMs }),
      ...(logRequests ? [outcomeLogPlugin(outcomes)] : []),
      config.landingPage ? ApolloServerPluginLandingPageLocalDefault({ includeCookies: false }) : ApolloServerPluginLandingPageDisabled(),
      nulGuardPlugin<GraphQLContext>(),
      // Apollo installs these unless told not to. Cache control wraps every field resolver to compute
      // HTTP cache hints an auth service never gives (its answers are never cacheable); usage and
      // schema reporting would send operations to Apollo's cloud whenever APOLLO_KEY happens to be
      // in the environment, and inline traces would hand resolver timings to any client asking.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      ...extensions.plugins,
    ],
  });
  await apollo.start();

  const readiness = new Readiness(deps.dataSource);
  const routes = new Map((deps.routes ?? []).map((r) => [r.path, r]));
  const corsOrigins = new Set(config.corsOrigins);
  // CORS_ORIGINS=* (refused in production) is answered with a literal `*`, never by echoing the
  // Origin (`null` included) and never with credentials: browsers then send no cookies with it.
  const corsAnyOrigin = corsOrigins.has('*');
  const securityHeaders = helmet({
    // The Sandbox landing page loads Apollo's scripts; a module's own page sets its own policy.
    contentSecurityPolicy: false,
    crossOriginEmbedderPolicy: false,
    strictTransportSecurity: config.isProduction ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    await new Promise<void>((resolve) => securityHeaders(req, res, () => resolve()));

    const origin = req.headers.origin;
    // Answers differ by Origin: shared caches must not hand one origin's answer to another.
    res.setHeader('vary', 'Origin');
    if (origin && (corsAnyOrigin || corsOrigins.has(origin))) {
      res.setHeader('access-control-allow-origin', corsAnyOrigin ? '*' : origin);
      res.setHeader('access-control-allow-headers', CORS_ALLOWED_HEADERS);
      res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
      res.setHeader('access-control-max-age', CORS_MAX_AGE_SECONDS);
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }

    switch (url.pathname) {
      case '/healthz':
        return sendJson(res, 200, { status: 'ok' });
      case '/readyz': {
        const state = await readiness.check();
        return sendJson(res, state.ready ? 200 : 503, state.ready ? { status: 'ready' } : { status: 'unavailable', reason: state.reason });
      }
      case '/.well-known/jwks.json':
        return sendJson(res, 200, deps.keys.jwks, { 'cache-control': `public, max-age=${JWKS_MAX_AGE_SECONDS}` });
      case GRAPHQL_PATH:
        return handleGraphQL(req, res, url);
      default: {
        const route = routes.get(url.pathname);
        return route ? route.handle(req, res) : sendJson(res, 404, { error: 'not found' });
      }
    }
  };

  const handleGraphQL = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.setHeader('allow', 'GET, POST, OPTIONS');
      return requestError(res, 405, 'Use GET or POST.');
    }
    let body: unknown = undefined;
    if (req.method === 'POST') {
      let text: string;
      try {
        text = await readBody(req, config.limits.maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          res.setHeader('connection', 'close');
          return requestError(res, 413, `Request body is larger than ${config.limits.maxBodyBytes} bytes.`);
        }
        throw error;
      }
      const type = req.headers['content-type'] ?? '';
      if (type.startsWith('application/json') || type.startsWith('application/graphql-response+json')) {
        try {
          body = text.length ? JSON.parse(text) : undefined;
        } catch {
          return requestError(res, 400, 'The body is not valid JSON.');
        }
        if (Array.isArray(body)) return requestError(res, 400, 'Batched requests are not supported: send one operation per request.');
      } else {
        body = text;
      }
    }

    const headers = headerMapOf(req.headers);
    const request = {
      ip: clientAddress(req, config.trustProxy),
      userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
    };
    const outcome: GraphQLOutcome = {};
    if (logRequests) {
      responseOutcomes.set(res, outcome);
      outcomes.set(request, outcome);
    }
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method, headers, search: url.search, body },
      context: async () => buildContext(deps.verifier, req.headers.authorization, request),
    });
    await sendGraphQLResponse(res, result);
  };

  function listener(req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint();
    res.on('close', () => {
      if (!logRequests) return;
      const outcome = responseOutcomes.get(res);
      logger.info(
        {
          method: req.method,
          // Never the query string: a GET /graphql carries variables (passwords, tokens) there.
          path: (req.url ?? '').split('?')[0],
          status: res.statusCode,
          ms: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
          ...(outcome?.operation ? { operation: outcome.operation } : {}),
          ...(outcome?.fields?.length ? { fields: outcome.fields } : {}),
          ...(outcome?.errors ? { errors: outcome.errors } : {}),
        },
        'request',
      );
    });
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.destroy();
    });
  }

  return { server, apollo };
}
