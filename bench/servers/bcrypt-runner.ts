import { performance } from 'node:perf_hooks';
import bcrypt from 'bcrypt';

/**
 * The ceiling of the login ladder (L0): raw bcrypt in a process of its own on the same cores, on
 * libuv's pool exactly as the service runs it (same UV_THREADPOOL_SIZE), `concurrency` calls in
 * flight, for a fixed time. Driven over IPC by the bench: `bcrypt` -> `bcrypt:done`.
 */
interface BcryptJob {
  id: number;
  type: 'bcrypt';
  op: 'compare' | 'hash';
  /** What the service hands bcrypt: the 44-character HMAC prehash of the password. */
  input: string;
  hash: string;
  rounds: number;
  concurrency: number;
  durationMs: number;
}

async function run(job: BcryptJob): Promise<{ latencies: number[]; durationMs: number }> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + job.durationMs;
  let last = started;
  const worker = async (): Promise<void> => {
    // Like a closed-loop HTTP client: each slot starts its next call as soon as one ends.
    while (performance.now() < deadline) {
      const t0 = performance.now();
      if (job.op === 'compare') {
        if (!(await bcrypt.compare(job.input, job.hash))) throw new Error('the seeded hash does not match the input');
      } else {
        await bcrypt.hash(job.input, job.rounds);
      }
      last = performance.now();
      latencies.push(last - t0);
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  return { latencies, durationMs: last - started };
}

process.on('message', (message: BcryptJob) => {
  if (message?.type !== 'bcrypt') return;
  run(message).then(
    (result) => process.send!({ id: message.id, type: 'bcrypt:done', ...result }),
    (error: unknown) => process.send!({ id: message.id, type: 'error', message: (error as Error).message }),
  );
});
process.stdout.write('bcrypt runner ready\n');
