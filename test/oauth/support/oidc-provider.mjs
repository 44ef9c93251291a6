// A real OpenID Provider for the tests: the `oidc-provider` package (an OpenID Certified
// implementation) over HTTPS with a certificate the test made. Run as its own process (the package
// is ESM-only; Jest cannot load it). Reads one JSON line of settings from OP_CONFIG:
//   { port, certFile, keyFile, clients: [{ client_id, client_secret, redirect_uris }], cookieKey }
// and prints "OP ready at https://localhost:PORT" once it listens.
//
// Accounts are scripted at run time through a test-only control endpoint, POST /__test/accounts
// with { id, email, email_verified, tamper? }. `tamper` makes the token endpoint hand out a
// deliberately broken ID token for that account (signed with the provider's own key unless
// `foreignKey`), to prove the relying party checks what it must:
//   { iss: "...", aud: "...", nonce: "...", expired: true, foreignKey: true }
// Login and consent are real interactions: the provider redirects to /interaction/:uid, and this
// script finishes the login (the account named by the authorization request's login_hint) and the
// consent (a Grant for what the provider says is missing) through the provider's own API.
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { generateKeyPair, exportJWK, SignJWT, decodeJwt } from 'jose';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OP_CONFIG);
const accounts = new Map();

const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'op-key-1', alg: 'RS256', use: 'sig' };
const foreign = await generateKeyPair('RS256', { extractable: true });
void publicKey;

const server = createServer({ cert: readFileSync(config.certFile), key: readFileSync(config.keyFile) });
await new Promise((resolve) => server.listen(config.port ?? 0, '127.0.0.1', resolve));
const issuer = `https://localhost:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: [jwk] },
  cookies: { keys: [config.cookieKey] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = accounts.get(id);
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, email: account.email, email_verified: account.email_verified, name: id }) };
  },
});

// After the token endpoint answered: break the ID token of a tampered account.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token' || ctx.status !== 200 || !ctx.body?.id_token) return;
  const claims = decodeJwt(ctx.body.id_token);
  const tamper = accounts.get(claims.sub)?.tamper;
  if (!tamper) return;
  const broken = { ...claims };
  if (tamper.iss) broken.iss = tamper.iss;
  if (tamper.aud) broken.aud = tamper.aud;
  if (tamper.nonce) broken.nonce = tamper.nonce;
  if (tamper.expired) {
    broken.iat = Math.floor(Date.now() / 1000) - 3600;
    broken.exp = Math.floor(Date.now() / 1000) - 1800;
  }
  const key = tamper.foreignKey ? foreign.privateKey : privateKey;
  ctx.body = { ...ctx.body, id_token: await new SignJWT(broken).setProtectedHeader({ alg: 'RS256', kid: jwk.kid }).sign(key) };
});

const callback = provider.callback();

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    if (!accounts.has(params.login_hint)) {
      res.writeHead(400).end('unknown login_hint');
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: params.login_hint } }, { mergeWithLastSubmission: false });
    return;
  }
  if (prompt.name === 'consent') {
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  res.writeHead(400).end(`unexpected prompt ${prompt.name}`);
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk) => (data += chunk));
    req.on('end', () => {
      try {
        resolve(JSON.parse(data));
      } catch (error) {
        reject(error);
      }
    });
  });
}

server.on('request', (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  if (req.method === 'POST' && path === '/__test/accounts') {
    readJson(req).then(
      (account) => {
        accounts.set(account.id, account);
        res.writeHead(204).end();
      },
      () => res.writeHead(400).end(),
    );
    return;
  }
  if (path.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => res.writeHead(500).end(String(error?.message ?? error)));
    return;
  }
  callback(req, res);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(`OP ready at ${issuer}`);
