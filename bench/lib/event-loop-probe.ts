import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Preloaded (`node -r`) into every server the bench starts, the Bouncer service included, so the
 * event-loop delay is measured inside the process under load without any change to the service.
 * It answers on the IPC channel the bench forked it with: `eld:reset` starts a window, `eld:read`
 * returns that window's delay percentiles in milliseconds (beyond the sampling interval itself). `profile:start` / `profile:stop` (with
 * a path) take a V8 CPU profile of a window through the inspector (--cpu-prof only writes at a
 * clean exit).
 */
const RESOLUTION_MS = 10; // the timer that samples the loop fires this often; its own delay is what is recorded
const PROFILE_SAMPLING_US = 200; // finer than V8's default 1 ms: requests here take about a millisecond

let session: Session | undefined;
let queries = 0;

/**
 * With BENCH_COUNT_QUERIES=1 (--profile runs only) every statement the server sends through `pg`
 * is counted: round trips per request are half the story of a slow transaction.
 */
function countQueries(): void {
  try {
    const pg = require(require.resolve('pg', { paths: [process.cwd()] })) as { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
    const original = pg.Client.prototype.query;
    pg.Client.prototype.query = function counted(this: unknown, ...args: unknown[]) {
      queries++;
      return original.apply(this, args);
    };
  } catch {
    // no pg here: nothing to count
  }
}
function post<T = unknown>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session!.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as T))));
}

if (typeof process.send === 'function') {
  if (process.env.BENCH_COUNT_QUERIES === '1') countQueries();
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  // The histogram records whole intervals between samples (about RESOLUTION_MS when idle): the delay is what exceeds it.
  const ms = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  process.on('message', (message: { id?: number; type?: string }) => {
    if (!message || typeof message.id !== 'number') return;
    if (message.type === 'eld:reset') {
      histogram.reset();
      process.send!({ id: message.id, type: 'eld:reset' });
    } else if (message.type === 'queries:reset') {
      queries = 0;
      process.send!({ id: message.id, type: 'queries', count: 0 });
    } else if (message.type === 'queries:read') {
      process.send!({ id: message.id, type: 'queries', count: queries });
    } else if (message.type === 'profile:start') {
      session ??= new Session();
      try {
        session.connect();
      } catch {
        // already connected
      }
      void post('Profiler.enable')
        .then(() => post('Profiler.setSamplingInterval', { interval: PROFILE_SAMPLING_US }))
        .then(() => post('Profiler.start'))
        .then(() => process.send!({ id: message.id, type: 'profile:started' }))
        .catch((error: Error) => process.send!({ id: message.id, type: 'error', message: error.message }));
    } else if (message.type === 'profile:stop') {
      const path = (message as { path?: string }).path!;
      void post<{ profile: unknown }>('Profiler.stop')
        .then(({ profile }) => {
          writeFileSync(path, JSON.stringify(profile));
          process.send!({ id: message.id, type: 'profile:written', path });
        })
        .catch((error: Error) => process.send!({ id: message.id, type: 'error', message: error.message }));
    } else if (message.type === 'eld:read') {
      process.send!({
        id: message.id,
        type: 'eld',
        samples: histogram.count,
        p50: ms(histogram.percentile(50)),
        p99: ms(histogram.percentile(99)),
        max: ms(histogram.max),
        mean: ms(histogram.mean),
      });
    }
  });
  // The channel must not keep a server alive once it has decided to exit.
  (process as unknown as { channel?: { unref(): void } }).channel?.unref();
}
