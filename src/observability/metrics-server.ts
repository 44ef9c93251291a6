import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { BouncerMetrics } from './metrics';

/**
 * GET /metrics on a port of its own (METRICS_PORT), never on the public one: what a scraper
 * reads (pool sizes, failure rates) is for operators, and the public listener stays the API.
 */
export class MetricsServer {
  private server: Server | undefined;

  constructor(
    private readonly metrics: BouncerMetrics,
    private readonly logger: Logger,
    private readonly host: string,
    private readonly requestedPort: number,
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/metrics') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('use GET\n');
      this.metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': this.metrics.contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : text),
        (error: unknown) => {
          this.logger.error({ err: error }, 'metrics collection failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
        },
      );
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.requestedPort, this.host, () => resolve());
    });
    this.server = server;
    this.logger.info({ port: this.port }, 'metrics listening');
  }

  /** The port it listens on (METRICS_PORT=0 picks a free one). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
