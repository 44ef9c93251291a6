import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { median, summarize, type LatencySummary } from './stats';

/** One kind of request in a load run; several kinds cycle in order on every connection. */
export interface LoadRequest {
  /** Latencies and outcomes are kept per tag (mixed load reports `me` apart from `login`). */
  tag: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Builds each request afresh (rotating users, the latest refresh token); return the body and extra headers. */
  build?: (context: Record<string, unknown>) => { body: string; headers?: Record<string, string> };
  /** Whether a response is the outcome this scenario measures (a GraphQL error inside a 200 is not, unless expected). */
  expect: (status: number, body: string) => boolean;
  /** Sees every response (to keep rotating state). */
  after?: (status: number, body: string, context: Record<string, unknown>) => void;
}

export interface LoadOptions {
  /** Origin of the server, e.g. http://127.0.0.1:1234 */
  origin: string;
  connections: number;
  /** Seconds of load; or `amount` requests and then stop. */
  durationS?: number;
  amount?: number;
  requests: LoadRequest[];
  /**
   * Unset: every connection cycles through `requests` in order. Set (one whole number per request):
   * one global sequence hands out requests in these proportions to whichever connection asks next,
   * so slow and fast kinds do not move in lock-step across connections.
   */
  shares?: number[];
}

export interface TagResult {
  /** Responses that matched `expect`. */
  ok: number;
  unexpected: number;
  /** First unexpected response, to say why a run went wrong. */
  sample?: string;
  latency: LatencySummary;
  /** ok responses per second of the run. */
  rps: number;
}

export interface LoadRun {
  durationS: number;
  /** Longest latency of the run, ms: how long work cut off at its end may still keep the server busy. */
  maxLatencyMs: number;
  connectionErrors: number;
  timeouts: number;
  tags: Record<string, TagResult>;
}

const DEFAULT_HEADERS = { 'content-type': 'application/json' };
/** How often autocannon checks whether the run is over: its default (1 s) would overshoot short runs. */
const SAMPLE_INTERVAL_MS = 100;
/** bcrypt-bound requests queue for seconds at high concurrency; only a wedged server takes longer. */
const REQUEST_TIMEOUT_S = 60;

export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  const latencies = new Map<string, number[]>();
  const counts = new Map<string, { ok: number; unexpected: number; sample?: string }>();
  for (const request of options.requests) {
    latencies.set(request.tag, []);
    counts.set(request.tag, { ok: 0, unexpected: 0 });
  }

  const record = (spec: LoadRequest, status: number, body: string): void => {
    const tally = counts.get(spec.tag)!;
    if (status >= 200 && status < 300 && spec.expect(status, body)) tally.ok++;
    else {
      tally.unexpected++;
      tally.sample ??= `${status} ${body.slice(0, 300)}`;
    }
  };
  const build = (spec: LoadRequest, request: autocannon.RequestParams, context: Record<string, unknown>): autocannon.RequestParams => {
    const built = spec.build!(context);
    return { ...request, body: built.body, headers: { ...request.headers, ...built.headers } };
  };
  const base = (spec: LoadRequest): autocannon.Request => ({
    method: 'POST',
    path: spec.path ?? '/graphql',
    headers: { ...DEFAULT_HEADERS, ...spec.headers },
    body: spec.body,
  });

  let requests: autocannon.Request[];
  /** Which spec a finished request was: read from the connection's request (cycle) or context (shares). */
  let specOf: (client: autocannon.Client) => LoadRequest | undefined;
  if (options.shares) {
    const sequence = options.shares.flatMap((count, index) => Array.from({ length: count }, () => index));
    let next = 0;
    requests = [
      {
        ...base(options.requests[0]),
        setupRequest: (request, context) => {
          const index = sequence[next++ % sequence.length];
          context.spec = index;
          const spec = options.requests[index];
          return spec.build ? build(spec, { ...request, ...base(spec), headers: request.headers }, context) : { ...request, ...base(spec) };
        },
        onResponse: (status, body, context) => {
          const spec = options.requests[context.spec as number];
          record(spec, status, body);
          spec.after?.(status, body, context);
        },
      },
    ];
    specOf = (client) => options.requests[(client as { requestIterator?: { context?: { spec?: number } } }).requestIterator?.context?.spec ?? 0];
  } else {
    requests = options.requests.map((spec) => ({
      ...base(spec),
      tag: spec.tag,
      ...(spec.build ? { setupRequest: (request, context) => build(spec, request, context) } : {}),
      onResponse: (status: number, body: string, context: Record<string, unknown>) => {
        record(spec, status, body);
        spec.after?.(status, body, context);
      },
    }));
    specOf = (client) => {
      const tag = client.requestIterator?.currentRequest?.tag;
      return options.requests.find((r) => r.tag === tag);
    };
  }

  const started = performance.now();
  let lastResponse = started;
  let connectionErrors = 0;
  const instance = autocannon({
    url: options.origin,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.durationS ?? 3 }),
    pipelining: 1,
    timeout: REQUEST_TIMEOUT_S,
    sampleInt: SAMPLE_INTERVAL_MS,
    requests,
  });
  instance.on('response', (client, _status, _bytes, responseTimeMs) => {
    lastResponse = performance.now();
    // autocannon calls listeners before it moves the connection on to its next request.
    const tag = specOf(client)?.tag ?? options.requests[0].tag;
    latencies.get(tag)?.push(responseTimeMs);
  });
  instance.on('reqError', () => connectionErrors++);
  const result = await instance;
  const durationS = Math.max(1e-3, (lastResponse - started) / 1000);

  const tags: Record<string, TagResult> = {};
  for (const [tag, tally] of counts) {
    tags[tag] = { ...tally, latency: summarize(latencies.get(tag)!), rps: tally.ok / durationS };
  }
  const maxLatencyMs = Math.max(0, ...Object.values(tags).map((t) => (Number.isFinite(t.latency.max) ? t.latency.max : 0)));
  return { durationS, maxLatencyMs, connectionErrors: connectionErrors - result.timeouts, timeouts: result.timeouts, tags };
}

/** The medians of several runs of one tag: what the table reports. */
export interface TagMedians {
  runs: number;
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  ok: number;
  unexpected: number;
  /** Why a response was unexpected, from the first run that had one. */
  sample?: string;
  /** Connections that failed (refused, reset) and requests that timed out, over all runs. */
  connectionErrors: number;
  timeouts: number;
  perRun: Array<{ rps: number; p50: number; p99: number; mean: number; count: number }>;
}

export function mediansOf(runs: LoadRun[], tag: string): TagMedians {
  const results = runs.map((run) => run.tags[tag]).filter(Boolean);
  return {
    connectionErrors: runs.reduce((n, r) => n + r.connectionErrors, 0),
    timeouts: runs.reduce((n, r) => n + r.timeouts, 0),
    runs: results.length,
    rps: median(results.map((r) => r.rps)),
    p50: median(results.map((r) => r.latency.p50)),
    p99: median(results.map((r) => r.latency.p99)),
    mean: median(results.map((r) => r.latency.mean)),
    ok: results.reduce((n, r) => n + r.ok, 0),
    unexpected: results.reduce((n, r) => n + r.unexpected, 0),
    sample: results.find((r) => r.sample)?.sample,
    perRun: results.map((r) => ({ rps: r.rps, p50: r.latency.p50, p99: r.latency.p99, mean: r.latency.mean, count: r.latency.count })),
  };
}

/**
 * Requests a bcrypt-bound run sends: about `durationS` worth at the rate a warm-up burst showed, at
 * least one per connection. Such runs go by count, not time, so every request is answered inside
 * its run: a time-boxed run would leave seconds of queued bcrypt work running into the next one.
 */
export function amountFor(warmup: LoadRun, tag: string, durationS: number, connections: number): number {
  const rate = warmup.tags[tag]?.rps ?? 0;
  return Math.max(connections, Math.round(rate * durationS));
}

/** Waits out work a time-boxed run cut off (bcrypt logins still queued in the server). */
export async function drain(run: LoadRun): Promise<void> {
  const DRAIN_MARGIN_MS = 250;
  await new Promise((resolve) => setTimeout(resolve, run.maxLatencyMs + DRAIN_MARGIN_MS));
}

/** What went wrong in these results, for the row's note (undefined when nothing did). */
export function problems(...results: TagMedians[]): string | undefined {
  const out: string[] = [];
  const unexpected = results.reduce((n, m) => n + m.unexpected, 0);
  if (unexpected) out.push(`${unexpected} unexpected responses, e.g. ${results.find((m) => m.sample)?.sample}`);
  const errors = results.reduce((n, m) => n + m.connectionErrors, 0);
  if (errors) out.push(`${errors} connection errors`);
  const timeouts = results.reduce((n, m) => n + m.timeouts, 0);
  if (timeouts) out.push(`${timeouts} timeouts`);
  const empty = results.reduce((n, m) => n + m.perRun.filter((r) => r.count === 0).length, 0);
  if (empty) out.push(`${empty} runs without a single answer`);
  return out.length ? out.join('; ') : undefined;
}
