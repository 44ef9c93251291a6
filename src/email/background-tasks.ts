import type { Logger } from 'pino';

/** Work past this many waiting tasks is dropped (and logged): a flood must not grow memory without bound. */
const MAX_PENDING_TASKS = 1_000;

/**
 * Work a request starts but does not wait for (a reset request's lookup and mail), so the answer
 * and its timing cannot depend on it. Started after `delayMs` (at the earliest after the current
 * I/O turn); stop() waits for it.
 */
export class BackgroundTasks {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  run(name: string, work: () => Promise<void>, delayMs = 0): void {
    if (this.running.size >= MAX_PENDING_TASKS) {
      this.logger.warn({ task: name }, 'too much background work waiting: task dropped');
      return;
    }
    const task: Promise<void> = new Promise<void>((resolve) => (delayMs > 0 ? setTimeout(resolve, delayMs) : setImmediate(resolve)))
      .then(work)
      .catch((error: unknown) => this.logger.warn({ err: error, task: name }, 'background task failed'))
      .finally(() => this.running.delete(task));
    this.running.add(task);
  }

  async drain(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }
}
