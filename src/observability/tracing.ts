import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-node';
import { ScrubbingExporter } from './span-scrubber';
import type { TracingConfig } from './tracing.config';

export interface Tracing {
  /** Sends what is buffered and stops (at shutdown, after the service stopped). */
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry for HTTP (incoming requests), GraphQL (parse, validate, execute, resolvers) and
 * PostgreSQL (each statement), exported over OTLP/HTTP. Must run before those modules load.
 */
export function startTracing(config: TracingConfig): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor(new ScrubbingExporter(new OTLPTraceExporter({ url: `${config.endpoint}/v1/traces`, headers: config.headers })))],
  });
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // No headers recorded (Authorization, cookies); the service makes no outgoing HTTP of its own.
      new HttpInstrumentation({ disableOutgoingRequestInstrumentation: true, headersToSpanAttributes: {} }),
      // Literal values masked in the source; variables never recorded; resolver spans for root fields only.
      new GraphQLInstrumentation({ allowValues: false, ignoreTrivialResolveSpans: true, mergeItems: true, depth: 1 }),
      // Statement text only (parameters are never recorded).
      new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true }),
    ],
  });
  return {
    shutdown: async () => {
      unregister();
      await provider.shutdown();
    },
  };
}
