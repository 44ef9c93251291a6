import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A path a feature module serves next to /graphql (hosted pages, their assets). The HTTP server
 * dispatches on the exact path after its own routes; the security headers and CORS are already set,
 * so a route adds only what is its own (its content type, a Content-Security-Policy).
 */
export interface HttpRoute {
  readonly path: string;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> | void;
}
