import { isolated } from '../abuse/abuse.helpers';
import { productionEnv } from '../support/config-env';
import { startTestServer, type TestServer } from '../support/test-server';

let dev: TestServer;
beforeAll(async () => {
  dev = await startTestServer(isolated());
});
afterAll(() => dev?.stop());

const get = (server: TestServer, path: string, init: RequestInit = {}) => fetch(`${server.origin}${path}`, init);

test('serves the demo page in development with a strict Content-Security-Policy: scripts and styles from this origin only', async () => {
  const res = await get(dev, '/demo');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  const csp = res.headers.get('content-security-policy')!;
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect((await get(dev, '/demo/')).status).toBe(200);
});

test('the page holds no inline script or event handler: its behaviour is the separate script file', async () => {
  const html = await (await get(dev, '/demo')).text();
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  expect(scripts).toHaveLength(1);
  expect(scripts[0][1]).toContain('src="/demo/demo.js"');
  expect(scripts[0][2].trim()).toBe('');
  expect(html).not.toMatch(/\son[a-z]+\s*=/i);
  expect(html).not.toMatch(/javascript:/i);
  expect(html).not.toMatch(/style\s*=/i);

  const js = await get(dev, '/demo/demo.js');
  expect(js.status).toBe(200);
  expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  const source = await js.text();
  expect(source).toContain('startPasskeyLogin');
  expect(source).not.toMatch(/\beval\(|new Function|innerHTML/);
  expect((await get(dev, '/demo/demo.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
});

test('only GET and HEAD; anything else under /demo is 404', async () => {
  expect((await get(dev, '/demo', { method: 'POST', body: 'x' })).status).toBe(405);
  const head = await get(dev, '/demo', { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(await head.text()).toBe('');
  expect((await get(dev, '/demo/../package.json')).status).toBe(404);
  expect((await get(dev, '/demo/demo.routes.js')).status).toBe(404);
});

describe('in production', () => {
  const prodEnv = () => isolated({ ...productionEnv(), BCRYPT_ROUNDS: '10' });

  test('the demo page is not served unless DEMO_PAGE=true', async () => {
    const prod = await startTestServer(prodEnv());
    try {
      expect((await get(prod, '/demo')).status).toBe(404);
      expect((await get(prod, '/demo/demo.js')).status).toBe(404);
    } finally {
      await prod.stop();
    }
    const opted = await startTestServer({ ...prodEnv(), DEMO_PAGE: 'true' });
    try {
      expect((await get(opted, '/demo')).status).toBe(200);
    } finally {
      await opted.stop();
    }
  });
});
