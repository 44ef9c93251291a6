import type { DataSource } from 'typeorm';
import type { Encryptor } from '../crypto/encryption';
import { newOpaqueToken, sha256Hex } from '../crypto/random';
import { codeChallengeOf, newFlowSecret } from './pkce';

/** CONTRACT.md: a flow lives 10 minutes. */
export const FLOW_TTL_SECONDS = 10 * 60;
/** Longest state looked up (ours are 43 characters); longer input is refused unhashed. */
export const MAX_STATE_CHARS = 256;

export type FlowKind = 'login' | 'link';

export interface NewFlow {
  kind: FlowKind;
  provider: string;
  redirectUri: string;
  clientCodeChallenge: string;
  /** The signed-in account of a link flow. */
  userId: string | null;
  withNonce: boolean;
}

/** What the provider's authorization request carries. */
export interface StartedFlow {
  state: string;
  codeChallenge: string;
  nonce: string | null;
}

/** A flow taken out of the store (it exists no more). */
export interface ConsumedFlow {
  kind: FlowKind;
  provider: string;
  redirectUri: string;
  codeVerifier: string;
  nonce: string | null;
  clientCodeChallenge: string;
  userId: string | null;
}

interface FlowRow {
  kind: FlowKind;
  provider: string;
  redirect_uri: string;
  code_verifier_enc: string;
  nonce: string | null;
  client_code_challenge: string;
  user_id: string | null;
  live: boolean;
}

/** The ciphertext names its row: a verifier copied to another flow's row does not decrypt. */
const aad = (stateHash: string): string => `oauth-flow:${stateHash}`;

/**
 * Pending flows in PostgreSQL, so any instance can finish a flow another started. The state is
 * 256 random bits stored only as a hash; Bouncer's PKCE verifier is encrypted (ENCRYPTION_KEY).
 * Taking a flow deletes it in the same statement: two requests racing with one state get it once.
 */
export class OAuthFlowStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly encryptor: Encryptor,
  ) {}

  async create(flow: NewFlow): Promise<StartedFlow> {
    const state = newOpaqueToken();
    const stateHash = sha256Hex(state);
    const codeVerifier = newFlowSecret();
    const nonce = flow.withNonce ? newFlowSecret() : null;
    await this.dataSource.query(
      `INSERT INTO oauth_flows (state_hash, kind, provider, redirect_uri, code_verifier_enc, nonce, client_code_challenge, user_id, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9))`,
      [stateHash, flow.kind, flow.provider, flow.redirectUri, this.encryptor.encrypt(codeVerifier, aad(stateHash)), nonce, flow.clientCodeChallenge, flow.userId, FLOW_TTL_SECONDS],
    );
    return { state, codeChallenge: codeChallengeOf(codeVerifier), nonce };
  }

  /** The live flow of this state, deleted as it is read (single use); null when unknown, used or expired. */
  async consume(state: unknown): Promise<ConsumedFlow | null> {
    if (typeof state !== 'string' || !state || state.length > MAX_STATE_CHARS) return null;
    const stateHash = sha256Hex(state);
    const rows: [FlowRow[], number] = await this.dataSource.query(
      `DELETE FROM oauth_flows WHERE state_hash = $1
       RETURNING kind, provider, redirect_uri, code_verifier_enc, nonce, client_code_challenge, user_id, expires_at > now() AS live`,
      [stateHash],
    );
    const row = rows[0][0];
    if (!row || !row.live) return null;
    return {
      kind: row.kind,
      provider: row.provider,
      redirectUri: row.redirect_uri,
      codeVerifier: this.encryptor.decrypt(row.code_verifier_enc, aad(stateHash)),
      nonce: row.nonce,
      clientCodeChallenge: row.client_code_challenge,
      userId: row.user_id,
    };
  }
}
