import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpRoute } from '../../module';

/**
 * The demo page (development, or DEMO_PAGE=true): static HTML, a stylesheet and a script, served
 * from files next to this one. The policy allows scripts and styles from this origin only: no
 * inline script, no eval, no other host; `data:` images for the TOTP QR code.
 */
export const DEMO_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ASSETS: ReadonlyArray<{ paths: string[]; file: string; type: string }> = [
  { paths: ['/demo', '/demo/'], file: 'index.html', type: 'text/html; charset=utf-8' },
  { paths: ['/demo/demo.js'], file: 'demo.js', type: 'text/javascript; charset=utf-8' },
  { paths: ['/demo/demo.css'], file: 'demo.css', type: 'text/css; charset=utf-8' },
];

/** Read once at start: a missing file stops the start rather than the first visit. */
export function demoRoutes(dir: string = __dirname): HttpRoute[] {
  return ASSETS.flatMap(({ paths, file, type }) => {
    const body = readFileSync(join(dir, file));
    return paths.map((path) => ({ path, handle: (req: IncomingMessage, res: ServerResponse) => serve(req, res, body, type) }));
  });
}

function serve(req: IncomingMessage, res: ServerResponse, body: Buffer, type: string): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
    return;
  }
  res.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    'content-security-policy': DEMO_CONTENT_SECURITY_POLICY,
    'cache-control': 'no-cache',
    // WebAuthn from this page only, never from a frame of another site.
    'permissions-policy': 'publickey-credentials-create=(self), publickey-credentials-get=(self)',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
