import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GithubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
}

export interface GithubUser {
  id: number;
  login: string;
  emails: GithubEmail[];
}

interface IssuedCode {
  user: GithubUser;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  used: boolean;
}

export const GITHUB_CLIENT_ID = 'bouncer-github-client';
export const GITHUB_CLIENT_SECRET = `github-secret-${randomBytes(8).toString('hex')}`;

/**
 * A local stand-in for GitHub's OAuth and REST endpoints over HTTP, as strict as GitHub: the code
 * is single-use and bound to the client, redirect URI and PKCE challenge; a refused code is
 * answered 200 with an `error` (GitHub's way). The test picks who signs in with `login=` on the
 * authorization URL (a real GitHub parameter: the account to suggest).
 */
export class FakeGithub {
  private server!: Server;
  private readonly users = new Map<string, GithubUser>();
  private readonly codes = new Map<string, IssuedCode>();
  private readonly tokens = new Map<string, GithubUser>();
  private nextId = 1000 + Math.floor(Math.random() * 1_000_000);
  /** Client secrets the token endpoint received (to check what Bouncer sent). */
  readonly receivedSecrets: string[] = [];
  origin = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res).catch(() => res.writeHead(500).end()));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The OAUTH_PROVIDERS entry for this fake. */
  providerConfig(id = 'github'): Record<string, string> {
    return {
      id,
      type: 'github',
      clientId: GITHUB_CLIENT_ID,
      clientSecret: GITHUB_CLIENT_SECRET,
      authorizationEndpoint: `${this.origin}/login/oauth/authorize`,
      tokenEndpoint: `${this.origin}/login/oauth/access_token`,
      apiBaseUrl: `${this.origin}/api`,
    };
  }

  addUser(emails: GithubEmail[]): GithubUser {
    const user = { id: this.nextId++, login: `octo-${randomBytes(4).toString('hex')}`, emails };
    this.users.set(user.login, user);
    return user;
  }

  /** Plays the browser at GitHub: the user approves; returns the callback's code and state. */
  async authorize(authorizationUrl: string, user: GithubUser): Promise<{ code: string; state: string; redirect: URL }> {
    const url = new URL(authorizationUrl);
    url.searchParams.set('login', user.login);
    const res = await fetch(url, { redirect: 'manual' });
    if (res.status !== 302) throw new Error(`fake GitHub authorize answered ${res.status}: ${await res.text()}`);
    const redirect = new URL(res.headers.get('location')!);
    return { code: redirect.searchParams.get('code')!, state: redirect.searchParams.get('state')!, redirect };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') return this.authorizeEndpoint(url, res);
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') return this.tokenEndpoint(await readBody(req), res);
    const user = this.tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (req.method === 'GET' && url.pathname.startsWith('/api/')) {
      if (!user) return json(res, 401, { message: 'Requires authentication' });
      if (url.pathname === '/api/user') return json(res, 200, { id: user.id, login: user.login, email: null });
      if (url.pathname === '/api/user/emails') return json(res, 200, user.emails.map((e) => ({ ...e, visibility: null })));
    }
    json(res, 404, { message: 'Not Found' });
  }

  private authorizeEndpoint(url: URL, res: ServerResponse): void {
    const p = url.searchParams;
    const user = this.users.get(p.get('login') ?? '');
    if (!user || p.get('client_id') !== GITHUB_CLIENT_ID || p.get('code_challenge_method') !== 'S256' || !p.get('code_challenge') || !p.get('state')) {
      res.writeHead(400).end('bad authorization request');
      return;
    }
    const code = randomBytes(10).toString('hex');
    this.codes.set(code, { user, clientId: GITHUB_CLIENT_ID, redirectUri: p.get('redirect_uri')!, codeChallenge: p.get('code_challenge')!, used: false });
    const redirect = new URL(p.get('redirect_uri')!);
    redirect.searchParams.set('code', code);
    redirect.searchParams.set('state', p.get('state')!);
    res.writeHead(302, { location: redirect.href }).end();
  }

  private tokenEndpoint(body: string, res: ServerResponse): void {
    const p = new URLSearchParams(body);
    this.receivedSecrets.push(p.get('client_secret') ?? '');
    const issued = this.codes.get(p.get('code') ?? '');
    const verifier = p.get('code_verifier') ?? '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (
      !issued ||
      issued.used ||
      p.get('client_id') !== issued.clientId ||
      p.get('client_secret') !== GITHUB_CLIENT_SECRET ||
      p.get('redirect_uri') !== issued.redirectUri ||
      challenge !== issued.codeChallenge
    ) {
      return json(res, 200, { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
    }
    issued.used = true;
    const token = `gho_${randomBytes(16).toString('hex')}`;
    this.tokens.set(token, issued.user);
    json(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk: Buffer) => (data += chunk.toString()));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}
