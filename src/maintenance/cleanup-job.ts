/**
 * One pruning statement of the hourly cleanup: `sql` deletes at most `$N` rows (N = params.length + 1,
 * the batch size the cleanup appends), so a round never holds long locks on a large table.
 */
export interface CleanupJob {
  readonly name: string;
  readonly sql: string;
  readonly params: readonly unknown[];
}
