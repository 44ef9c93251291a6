import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { contentSecurityPolicy } from 'helmet';
import { LINK_MAILS } from '../mail/mail-kinds';
import type { HttpRoute } from '../module';

/** The pages and their assets, copied beside the compiled code by `npm run build`. */
const PAGES_DIR = join(__dirname, 'pages');
const HTML = 'text/html; charset=utf-8';

const FILES: ReadonlyArray<{ path: string; file: string; type: string }> = [
  { path: LINK_MAILS.verify_email.path, file: 'verify-email.html', type: HTML },
  { path: LINK_MAILS.reset_password.path, file: 'reset-password.html', type: HTML },
  { path: LINK_MAILS.confirm_email_change.path, file: 'confirm-email-change.html', type: HTML },
  { path: '/email/pages.js', file: 'pages.js', type: 'text/javascript; charset=utf-8' },
  { path: '/email/pages.css', file: 'pages.css', type: 'text/css; charset=utf-8' },
];

/**
 * The strictest policy the pages work under: their own script and stylesheet, fetches to their own
 * origin, nothing inline, no framing, no form posting elsewhere, DOM sinks closed (Trusted Types).
 */
const strictCsp = contentSecurityPolicy({
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    connectSrc: ["'self'"],
    imgSrc: ["'self'"],
    formAction: ["'none'"],
    baseUri: ["'none'"],
    frameAncestors: ["'none'"],
    requireTrustedTypesFor: ["'script'"],
  },
});

/** The hosted pages of emailed links, served so the links work with the default APP_URL. */
export function emailPageRoutes(): HttpRoute[] {
  return FILES.map(({ path, file, type }) => {
    const body = readFileSync(join(PAGES_DIR, file));
    return { path, handle: (req, res) => serve(req, res, body, type) };
  });
}

async function serve(req: IncomingMessage, res: ServerResponse, body: Buffer, type: string): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  await new Promise<void>((resolve, reject) => strictCsp(req, res, (error?: unknown) => (error ? reject(error) : resolve())));
  res.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    // Pages that handle tokens are never kept by a shared cache; `no-cache` still lets a browser revalidate assets.
    'cache-control': type === HTML ? 'no-store' : 'no-cache',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
