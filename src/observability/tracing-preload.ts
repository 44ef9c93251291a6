import type { Env } from '../config/parse';
import type { Tracing } from './tracing';
import { readTracingConfig } from './tracing.config';

/**
 * Imported first by main.ts: OpenTelemetry patches `http`, `graphql` and `pg` when they are loaded,
 * so it starts before anything else is. Off, and none of its packages loaded, unless
 * OTEL_EXPORTER_OTLP_ENDPOINT is set. A bad value is left to the configuration reader, which stops
 * the start with one line naming it.
 */
function startFrom(env: Env): Tracing | null {
  let config;
  try {
    config = readTracingConfig(env);
  } catch {
    return null;
  }
  if (!config) return null;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startTracing } = require('./tracing') as typeof import('./tracing');
  return startTracing(config);
}

export const tracing: Tracing | null = startFrom(process.env);
