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
/** Statements sent since the last reset, by label (a prepared statement's name, else its first words). */
let statements = new Map<string, number>();
let redisCommands = new Map<string, number>();

const bump = (map: Map<string, number>, label: string): void => {
  map.set(label, (map.get(label) ?? 0) + 1);
};

/**
 * With BENCH_COUNT_QUERIES=1 every statement the server sends through `pg` (TypeORM's, the pool's,
 * BEGIN and COMMIT) and every Redis command through `ioredis` is counted, by label: the database
 * work per request is what limits many instances on one PostgreSQL. The labels let the bench leave
 * out background work (the revocation poll) when it divides by requests.
 */
function countQueries(): void {
  const load = (name: string): any => {
    try {
      return require(require.resolve(name, { paths: [process.cwd()] }));
    } catch {
      return undefined; // not used by this server: nothing to count
    }
  };
  const pg = load('pg') as { Client: { prototype: { query: (...args: unknown[]) => unknown } } } | undefined;
  if (pg) {
    const original = pg.Client.prototype.query;
    pg.Client.prototype.query = function counted(this: unknown, ...args: unknown[]) {
      const first = args[0] as string | { name?: string; text?: string } | undefined;
      const label = typeof first === 'string' ? first : (first?.name ?? first?.text ?? '?');
      bump(statements, label.replace(/\s+/g, ' ').trim().slice(0, 60));
      return original.apply(this, args);
    };
  }
  const redis = load('ioredis') as { prototype: { sendCommand: (...args: unknown[]) => unknown } } | { default: { prototype: { sendCommand: (...args: unknown[]) => unknown } } } | undefined;
  const Redis = redis && ('default' in redis ? redis.default : redis);
  if (Redis?.prototype?.sendCommand) {
    const original = Redis.prototype.sendCommand;
    Redis.prototype.sendCommand = function counted(this: unknown, ...args: unknown[]) {
      bump(redisCommands, String((args[0] as { name?: string })?.name ?? '?'));
      return original.apply(this, args);
    };
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
      statements = new Map();
      redisCommands = new Map();
      process.send!({ id: message.id, type: 'queries', count: 0 });
    } else if (message.type === 'queries:read') {
      const count = [...statements.values()].reduce((a, b) => a + b, 0);
      process.send!({ id: message.id, type: 'queries', count, statements: Object.fromEntries(statements), redis: Object.fromEntries(redisCommands) });
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
