import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { uniqueEmail } from '../../support/accounts';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process';
import { postGraphQL, testEnv, type TestServer } from '../../support/test-server';
import { makeCertificates, TestOp, type OpAccount, type TestCertificates } from './oidc-op';
import { OTHER_REDIRECT_URI, REDIRECT_URI, type Authorize, type Send } from './oauth-client';

export const OP_CLIENT = { client_id: 'bouncer', client_secret: `op-secret-${randomBytes(12).toString('hex')}`, redirect_uris: [REDIRECT_URI, OTHER_REDIRECT_URI] };

/**
 * A real OpenID Provider (oidc-provider over HTTPS, its CA given to the service through
 * NODE_EXTRA_CA_CERTS) and the built service in a child process (openid-client is ESM-only:
 * Jest cannot load it in-process), plus a database handle for assertions.
 */
export interface OidcWorld {
  certs: TestCertificates;
  op: TestOp;
  service: ServiceProcess;
  send: Send;
  /** `registerAccount` and the 2FA helpers take a TestServer; they only use its gql. */
  api: TestServer;
  db: Pool;
  /** A scripted account at the OP (a random subject; verified unless said otherwise). */
  opAccount(options?: Partial<OpAccount>): Promise<OpAccount>;
  authorizeAs(account: OpAccount): Authorize;
  stop(): Promise<void>;
}

export function providersEnv(issuer: string, extra: Array<Record<string, string>> = []): Record<string, string> {
  return {
    OAUTH_PROVIDERS: JSON.stringify([{ id: 'acme', name: 'Acme', issuer, clientId: OP_CLIENT.client_id, clientSecret: OP_CLIENT.client_secret }, ...extra]),
    OAUTH_REDIRECT_URIS: `${REDIRECT_URI},${OTHER_REDIRECT_URI}`,
  };
}

export async function startOidcWorld(env: Record<string, string> = {}): Promise<OidcWorld> {
  const certs = makeCertificates();
  const op = await TestOp.start(certs, [OP_CLIENT]);
  const service = await startServiceProcess(
    testEnv({ NODE_EXTRA_CA_CERTS: certs.caFile, RATE_LIMIT_KEY_PREFIX: `t-${randomBytes(6).toString('hex')}`, ...providersEnv(op.issuer), ...env }),
  );
  const send: Send = (query, variables = {}, token) => postGraphQL(service.url, query, variables, token);
  const api = { url: service.url, gql: (q: string, v?: Record<string, unknown>, t?: string, h?: Record<string, string>) => postGraphQL(service.url, q, v, t, h) } as unknown as TestServer;
  const db = new Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 2 });
  return {
    certs,
    op,
    service,
    send,
    api,
    db,
    opAccount: (options = {}) => op.addAccount({ id: `sub-${randomBytes(6).toString('hex')}`, email: uniqueEmail('op'), email_verified: true, ...options }),
    authorizeAs: (account) => (url) => op.authorize(url, account.id),
    async stop() {
      await service.stop();
      await op.stop();
      await db.end();
      certs.remove();
    },
  };
}
