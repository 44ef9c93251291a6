import { createPublicKey, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import jwt from 'jsonwebtoken';
import { Pool } from 'pg';
import { headerMapOf, sendGraphQLResponse } from '../../src/app/apollo-node';

/**
 * The rungs under Bouncer in the authenticated-query ladder, one per process (argv[2]):
 *   r0  raw node:http: read the JSON body, answer a fixed JSON document;
 *   r1  r0 + jsonwebtoken verify of the Bearer token (ES256, KeyObject, pinned alg, iss, aud);
 *   r2  bare Apollo Server 5 answering `{ __typename }` through executeHTTPGraphQLRequest on node:http,
 *       the way src/app/http-server.ts runs it, with nothing else (no helmet, context, guard or DB);
 *   r3p r1 + the `me` user load as a `pg` prepared statement on a pool of DB_POOL_SIZE: the work `me`
 *       must do, without GraphQL or anything else around it.
 *   r5  r0 + exactly one durable write transaction per request: an `UPDATE ... RETURNING` of one
 *       row by primary key (rows taken in turn from the bench_r5 table the bench seeds), as a `pg`
 *       prepared statement in autocommit with synchronous_commit on, on a pool of DB_POOL_SIZE: the
 *       floor of any write path (one commit, one WAL flush), without GraphQL, tokens or crypto.
 * Env: BENCH_JWT_PUBLIC_KEY (PEM), JWT_ISSUER, JWT_AUDIENCE, DATABASE_URL, DB_POOL_SIZE, R5_ROWS.
 */
type Rung = 'r0' | 'r1' | 'r2' | 'r3p' | 'r5';

const rung = process.argv[2] as Rung;
if (!['r0', 'r1', 'r2', 'r3p', 'r5'].includes(rung)) throw new Error(`unknown rung "${process.argv[2]}"`);

const USER_COLUMNS = 'id, email, username, email_verified, roles, two_factor_enabled, created_at';
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const TYPENAME_ANSWER = JSON.stringify({ data: { __typename: 'Query' } });
const UNAUTHENTICATED = JSON.stringify({ errors: [{ message: 'Unauthenticated.', extensions: { code: 'UNAUTHENTICATED' } }], data: null });
const BEARER = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

let verifyKey: KeyObject | undefined;
function verifiedSubject(req: IncomingMessage): string | null {
  verifyKey ??= createPublicKey(process.env.BENCH_JWT_PUBLIC_KEY!);
  const match = BEARER.exec(req.headers.authorization?.trim() ?? '');
  if (!match) return null;
  try {
    const claims = jwt.verify(match[1], verifyKey, {
      algorithms: ['ES256'],
      issuer: process.env.JWT_ISSUER ?? 'bouncer',
      audience: process.env.JWT_AUDIENCE ?? 'bouncer',
    });
    return typeof claims === 'object' && typeof claims.sub === 'string' ? claims.sub : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  let handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  let close = async (): Promise<void> => undefined;

  if (rung === 'r0' || rung === 'r1') {
    handler = async (req, res) => {
      await readJson(req);
      if (rung === 'r1' && !verifiedSubject(req)) return send(res, 200, UNAUTHENTICATED);
      send(res, 200, TYPENAME_ANSWER);
    };
  } else if (rung === 'r2') {
    const apollo = new ApolloServer({
      typeDefs: 'type Query { ok: Boolean }',
      resolvers: { Query: { ok: () => true } },
      introspection: false,
      csrfPrevention: true,
      allowBatchedHttpRequests: false,
    });
    await apollo.start();
    close = () => apollo.stop();
    handler = async (req, res) => {
      const body = await readJson(req);
      const headers = headerMapOf(req.headers);
      const url = new URL(req.url ?? '/', 'http://localhost');
      const result = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'POST', headers, search: url.search, body },
        context: async () => ({}),
      });
      await sendGraphQLResponse(res, result);
    };
  } else if (rung === 'r5') {
    // Durable whatever the server's default: the commit waits for its WAL flush, like the service's.
    const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_SIZE ?? 10), options: '-c synchronous_commit=on' });
    close = () => pool.end();
    const rows = Number(process.env.R5_ROWS ?? 1000);
    let next = 0;
    handler = async (req, res) => {
      await readJson(req);
      const id = (next++ % rows) + 1;
      const { rows: updated } = await pool.query({ name: 'r5_write', text: 'UPDATE bench_r5 SET n = n + 1, touched_at = now() WHERE id = $1 RETURNING n', values: [id] });
      send(res, 200, JSON.stringify({ data: { write: { id, n: Number(updated[0].n) } } }));
    };
  } else {
    const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_SIZE ?? 10) });
    close = () => pool.end();
    handler = async (req, res) => {
      await readJson(req);
      const userId = verifiedSubject(req);
      if (!userId) return send(res, 200, UNAUTHENTICATED);
      const { rows } = await pool.query({ name: 'user_by_id', text: `SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, values: [userId] });
      const row = rows[0];
      if (!row) return send(res, 200, UNAUTHENTICATED);
      send(
        res,
        200,
        JSON.stringify({
          data: {
            me: {
              id: row.id,
              email: row.email,
              username: row.username,
              emailVerified: row.email_verified,
              roles: row.roles,
              twoFactorEnabled: row.two_factor_enabled,
              createdAt: (row.created_at as Date).toISOString(),
            },
          },
        }),
      );
    };
  }

  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, JSON.stringify({ errors: [{ message: String(error) }] }));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`baseline ${rung} ready on port ${(server.address() as AddressInfo).port}\n`);

  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void close().finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`baseline ${rung}: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
