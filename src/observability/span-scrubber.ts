import type { Attributes } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';

/** URL attributes whose query string may carry GraphQL variables (GET /graphql?variables=...). */
const URL_KEYS = new Set(['http.url', 'http.target', 'url.full', 'http.route']);
/** Attributes dropped outright: the query text and variables, query strings, headers. */
const DROPPED_KEY = /^(graphql\.source|graphql\.variables\.|url\.query$|http\.request\.header\.|http\.response\.header\.|db\.query\.parameter\.|db\.statement\.parameters)/;
/** A key that names a secret, whatever instrumentation set it. */
const SECRET_KEY = /password|passwd|secret|token|authorization|cookie|credential/i;
/**
 * graphql-js echoes literal values in its messages ("Expected type String, found 123", "Variable
 * $password got invalid value ..."): on GraphQL spans an error keeps its type, never its message.
 */
const GRAPHQL_SCOPE = /graphql/;

function cleanAttributes(attributes: Attributes, dropMessages: boolean): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (DROPPED_KEY.test(key) || SECRET_KEY.test(key)) continue;
    if (dropMessages && (key === 'exception.message' || key === 'exception.stacktrace')) continue;
    out[key] = URL_KEYS.has(key) && typeof value === 'string' ? withoutQuery(value) : value;
  }
  return out;
}

function withoutQuery(url: string): string {
  const cut = url.search(/[?#]/);
  const bare = cut === -1 ? url : url.slice(0, cut);
  return bare.replace(/\/\/[^/@]*@/, '//'); // and no user:password@ of a URL
}

/** A copy of the span with what could hold a secret taken out (the SDK's own span stays untouched). */
export function scrubSpan(span: ReadableSpan): ReadableSpan {
  const graphql = GRAPHQL_SCOPE.test(span.instrumentationScope.name);
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status: graphql && span.status.message ? { code: span.status.code } : span.status,
    attributes: cleanAttributes(span.attributes, graphql),
    links: span.links,
    events: span.events.map((e) => ({ ...e, attributes: e.attributes && cleanAttributes(e.attributes, graphql) })),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/**
 * The last word before spans leave the process: the instrumentations are configured not to record
 * bodies, headers or values, and this removes whatever could still carry a password, token or
 * code (query strings, GraphQL source and variables, error messages that echo literals).
 */
export class ScrubbingExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], resultCallback: Parameters<SpanExporter['export']>[1]): void {
    this.inner.export(spans.map(scrubSpan), resultCallback);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
