/**
 * The origin this instance serves at (`http://localhost:4000`), known once the HTTP server listens
 * (PORT=0 picks the port then). Background work that needs it (emailed links when APP_URL is unset)
 * waits for `ready`; bootstrap calls `set` right after listening.
 */
export class ServiceOrigin {
  readonly ready: Promise<string>;
  private resolve!: (origin: string) => void;

  constructor() {
    this.ready = new Promise((resolve) => (this.resolve = resolve));
  }

  set(origin: string): void {
    this.resolve(origin);
  }
}
