/** The decoded (never verified) parts of a JWT, as a client or an attacker reads them. */
function part(token: string, index: 0 | 1): Record<string, any> {
  const segment = token.split('.')[index];
  if (segment === undefined) throw new Error(`not a JWT: ${token.slice(0, 40)}`);
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
}

export function headerOf(token: string): Record<string, any> {
  return part(token, 0);
}

export function claimsOf(token: string): Record<string, any> {
  return part(token, 1);
}

/** The session id (`sid` claim) of an access token. */
export function sidOf(token: string): string {
  return claimsOf(token).sid as string;
}
