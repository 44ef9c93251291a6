import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';

export interface TestCertificates {
  /** PEM of the CA: NODE_EXTRA_CA_CERTS for the service. */
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Deletes the files. */
  remove(): void;
}

/** A throwaway CA and a server certificate for localhost / 127.0.0.1 it signed (openssl, one day). */
export function makeCertificates(): TestCertificates {
  const dir = join(process.cwd(), '.data', `oauth-tls-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=Bouncer test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(f('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '1', '-extfile', f('server.ext'));
  return { caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface OpAccount {
  id: string;
  email: string;
  email_verified: boolean;
  tamper?: { iss?: string; aud?: string; nonce?: string; expired?: boolean; foreignKey?: boolean };
}

export interface OpClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** The OpenID Provider of test/oauth/support/oidc-provider.mjs, running as its own process. */
export class TestOp {
  private constructor(
    private readonly child: ChildProcess,
    readonly issuer: string,
    private readonly ca: Buffer,
  ) {}

  static async start(certs: TestCertificates, clients: OpClient[], port = 0): Promise<TestOp> {
    const settings = { port, certFile: certs.certFile, keyFile: certs.keyFile, clients, cookieKey: randomBytes(16).toString('hex') };
    const child = spawn(process.execPath, [join(__dirname, 'oidc-provider.mjs')], {
      env: { PATH: process.env.PATH, OP_CONFIG: JSON.stringify(settings) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const issuer = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`OP not ready: ${out} ${err}`)), 20_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const match = /OP ready at (\S+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`OP exited with ${code}: ${err}`));
      });
    });
    return new TestOp(child, issuer, readFileSync(certs.caFile));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }

  async addAccount(account: OpAccount): Promise<OpAccount> {
    const res = await this.https('POST', new URL('/__test/accounts', this.issuer), {}, JSON.stringify(account));
    if (res.status !== 204) throw new Error(`addAccount: ${res.status}`);
    return account;
  }

  /**
   * Plays the browser: the authorization request (with login_hint naming the account), the login
   * and consent interactions, each redirect followed with the provider's cookies, until the
   * provider sends the browser to the client's redirect URI. Returns that response's parameters.
   */
  async authorize(authorizationUrl: string, accountId: string): Promise<{ code: string; state: string; iss: string | null; redirect: URL }> {
    const jar = new Map<string, string>();
    let url = new URL(authorizationUrl);
    url.searchParams.set('login_hint', accountId);
    const opOrigin = new URL(this.issuer).origin;
    for (let hop = 0; hop < 12; hop++) {
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const res = await this.https('GET', url, cookie ? { cookie } : {});
      for (const line of [res.headers['set-cookie'] ?? []].flat()) {
        const [pair, ...attributes] = line.split(';');
        const eq = pair.indexOf('=');
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        const expired = attributes.some((a) => /expires=.*1970/i.test(a));
        if (!value || expired) jar.delete(name);
        else jar.set(name, value);
      }
      const location = res.headers.location;
      if (res.status < 300 || res.status > 303 || typeof location !== 'string') throw new Error(`OP answered ${res.status} at ${url.pathname}: ${res.body.slice(0, 300)}`);
      const next = new URL(location, url);
      if (next.origin !== opOrigin) {
        const p = next.searchParams;
        if (p.get('error')) throw new Error(`OP refused the authorization request: ${p.get('error')} ${p.get('error_description')}`);
        return { code: p.get('code')!, state: p.get('state')!, iss: p.get('iss'), redirect: next };
      }
      url = next;
    }
    throw new Error('too many redirects at the OP');
  }

  private https(method: string, url: URL, headers: Record<string, string>, body?: string): Promise<HttpsAnswer> {
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, ca: this.ca }, (res) => {
        let data = '';
        res.on('data', (d: Buffer) => (data += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}
