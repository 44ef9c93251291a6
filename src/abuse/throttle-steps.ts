import type { Statement } from '../db/statement';
import type { CounterSpec, SettleMode } from './counter-spec';

/** A CounterSpec whose `count` and `hold` are SQL text expressions of the statement it is part of. */
export type CounterSpecSql = Pick<CounterSpec, 'count' | 'hold' | 'points' | 'windowMs' | 'capMs' | 'lock'>;

/**
 * A store's begin and settle as parts of a caller's statement (src/db/statement.ts), so a flow
 * whose own statements come before and after the credential check pays no round trip for its
 * counters. Only the PostgreSQL store has them; with Redis the flow calls begin and settle itself.
 */
export interface StoreSteps {
  /** An expression that counts one point on each spec when the statement evaluates it: what `LimiterStore.begin` answers. */
  begin(q: Statement, specs: CounterSpecSql[]): string;
  /** Settles each spec as `LimiterStore.settle` does (no further checks), once `gate` (a FROM clause) yields a row. */
  settle(q: Statement, settled: Array<{ spec: CounterSpec; mode: SettleMode }>, gate: string): void;
}

const NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/**
 * The PostgreSQL store's steps, on the functions and rows of ThrottleFunctions1733200000000.
 *
 * begin calls throttle_begin as the store does, so it commits without waiting for the WAL flush:
 * it belongs in a statement that writes nothing else (a read). settle is plain DML instead of
 * throttle_settle, which would switch the flush off for the caller's whole transaction: its rows
 * commit (durably) with the caller's, and a refund is a row of its own
 * (ThrottleRefundRows1764700031000), so that no shared counter stays locked until that commit.
 */
export const postgresSteps: StoreSteps = {
  begin(q, specs) {
    const keys = (values: string[]) => `ARRAY[${values.join(', ')}]::text[]`;
    const args = [
      keys(specs.map((s) => s.count)),
      keys(specs.map((s) => s.hold ?? 'NULL')),
      `${q.bind(specs.map((s) => s.points))}::int[]`,
      `${q.bind(specs.map((s) => s.windowMs))}::bigint[]`,
      `${q.bind(specs.map((s) => s.capMs))}::bigint[]`,
      `${q.bind(specs.map((s) => s.lock !== null))}::boolean[]`,
    ];
    return `throttle_begin(${args.join(', ')})`;
  },

  settle(q, settled, gate) {
    const reset = settled.filter((s) => s.mode === 'reset').flatMap((s) => (s.spec.hold ? [s.spec.count, s.spec.hold] : [s.spec.count]));
    const refund = settled.filter((s) => s.mode === 'refund').map((s) => s.spec.count);
    if (reset.length) q.with('throttle_reset', `DELETE FROM rate_limits WHERE key = ANY(${q.bind(reset)}::text[]) AND EXISTS (SELECT 1 FROM ${gate})`);
    if (refund.length) {
      // A row per refund, folded in by the key's next take: decrementing the counter here would
      // hold its row (shared by an address) until this statement's durable commit.
      q.with(
        'throttle_refund',
        `INSERT INTO rate_limit_refunds (key, expire)
         SELECT r.key, r.expire FROM rate_limits r
          WHERE r.key = ANY(${q.bind(refund)}::text[]) AND r.points > 0 AND r.expire > ${NOW_MS} AND EXISTS (SELECT 1 FROM ${gate})`,
      );
    }
  },
};
