import type { ForkedChild } from './child';
import type { TagMedians } from './load';
import type { BenchOptions } from './options';
import type { Row } from './report';
import type { BenchDb, TokenMint } from './seed';
import type { BenchServer } from './servers';

export interface BenchKeys {
  jwtPrivateKeyPem: string;
  jwtPublicKeyPem: string;
  encryptionKey: string;
}

/** What every scenario shares within one bench run. */
export interface BenchContext {
  options: BenchOptions;
  log(line: string): void;
  databaseUrl: string;
  /** Creates a further fresh database on the bench's server (dropped at the end); its URL. */
  extraDatabase(suffix: string): Promise<string>;
  db: BenchDb;
  keys: BenchKeys;
  /** The one bcrypt hash (made by the service's PasswordHasher) every seeded account has. */
  seedHash: string;
  /** The service every scenario but the pool sweep runs against. */
  service: BenchServer;
  /** Access tokens for seeded sessions of random accounts (the `me` traffic). */
  mint: TokenMint;
  /** Seeded accounts u1..uN that logins rotate over. */
  loginAccounts: number;
  bcryptRunner: ForkedChild;
  /** Refresh tokens from the logins of the login ladder, used by the refresh scenario. */
  refreshTokens: string[];
  /** Results other sections compare with (R3' of the ladder). */
  baselines: Partial<Record<'r3p' | 'r3', TagMedians>>;
  rows: Row[];
  /**
   * With --profile: a CPU profile of the service (and its pg statement count) while `work` runs,
   * written to .data/bench-profiles/service-<name>.cpuprofile. Without: just runs `work`.
   */
  profile<T>(name: string, work: () => Promise<T>): Promise<T>;
  /** Raw per-run numbers, written to the JSON results. */
  raw: Record<string, unknown>;
}
