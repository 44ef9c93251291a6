import { createHash } from 'node:crypto';
import type { Pool, QueryResultRow } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * Named prepared statements on TypeORM's own pg pool, for the request hot path (the `me` user load,
 * the login lookup): a repository call there costs several times more than the query itself.
 */
/** Distinct built statement shapes whose names are remembered (a handful exist; this only bounds a bug). */
const MAX_BUILT_SHAPES = 256;

export class Sql {
  private readonly names = new Map<string, string>();

  constructor(private readonly pool: Pool) {}

  static of(dataSource: DataSource): Sql {
    const pool = (dataSource.driver as unknown as { master?: Pool }).master;
    if (!pool) throw new Error('the data source is not initialised');
    return new Sql(pool);
  }

  async many<T extends QueryResultRow>(name: string, text: string, values: unknown[]): Promise<T[]> {
    const result = await this.pool.query<T>({ name, text, values });
    return result.rows;
  }

  /**
   * A statement whose text is assembled at run time (src/db/statement.ts), prepared under a name
   * derived from its text: each distinct shape is parsed once per connection. `label` starts the
   * name, so statement counts and pg_stat_activity say which statement it is.
   */
  built<T extends QueryResultRow>(text: string, values: unknown[], label = 'built'): Promise<T[]> {
    let name = this.names.get(text);
    if (!name) {
      name = `${label}_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
      if (this.names.size < MAX_BUILT_SHAPES) this.names.set(text, name);
    }
    return this.many<T>(name, text, values);
  }

  async one<T extends QueryResultRow>(name: string, text: string, values: unknown[]): Promise<T | undefined> {
    return (await this.many<T>(name, text, values))[0];
  }
}

/**
 * Rows of a statement run inside a transaction. TypeORM's plain `query` answers UPDATE and DELETE
 * with [rows, rowCount] and everything else with rows; the structured result is the same for all.
 */
export async function rowsOf<T>(m: EntityManager, text: string, values: unknown[]): Promise<T[]> {
  if (!m.queryRunner) throw new Error('rowsOf runs inside a transaction');
  return (await m.queryRunner.query(text, values, true)).records as T[];
}
