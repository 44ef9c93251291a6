import { ConfigError, str, type Env } from '../config/parse';

/** Where and how spans are sent (OTLP over HTTP). Tracing is off unless an endpoint is set. */
export interface TracingConfig {
  /** OTLP/HTTP base URL of a collector; spans go to `${endpoint}/v1/traces`. */
  endpoint: string;
  /** `key=value` pairs sent with every export (a collector's API key). */
  headers: Record<string, string>;
  serviceName: string;
  /** Share of new traces recorded, 0 to 1 (a caller's sampled trace is always followed). */
  sampleRatio: number;
}

/**
 * Reads the OTEL_* variables the OpenTelemetry specification names. Called twice: by the preload
 * (before anything it instruments is loaded) and by the observability module's config reader, so
 * a bad value stops the start with the usual one line.
 */
export function readTracingConfig(env: Env): TracingConfig | null {
  const raw = str(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (raw === undefined) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('OTEL_EXPORTER_OTLP_ENDPOINT', 'must be a URL like http://collector:4318');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('OTEL_EXPORTER_OTLP_ENDPOINT', `must use http:// or https://, got "${url.protocol}"`);
  const ratioRaw = str(env, 'OTEL_TRACES_SAMPLER_ARG');
  const sampleRatio = ratioRaw === undefined ? 1 : Number(ratioRaw);
  if (!Number.isFinite(sampleRatio) || sampleRatio < 0 || sampleRatio > 1) throw new ConfigError('OTEL_TRACES_SAMPLER_ARG', `must be a number from 0 to 1, got "${ratioRaw}"`);
  return {
    endpoint: raw.replace(/\/+$/, ''),
    headers: parseHeaders(str(env, 'OTEL_EXPORTER_OTLP_HEADERS')),
    serviceName: str(env, 'OTEL_SERVICE_NAME') ?? 'bouncer',
    sampleRatio,
  };
}

/** `k1=v1,k2=v2` (values URL-encoded), as the OTLP exporter specification writes them. */
function parseHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (raw ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new ConfigError('OTEL_EXPORTER_OTLP_HEADERS', 'must be comma-separated key=value pairs');
    headers[pair.slice(0, at).trim().toLowerCase()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}
