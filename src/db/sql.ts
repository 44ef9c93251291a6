import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * Named prepared statements on TypeORM's own pg pool, for the request hot path (the `me` user load,
 * the login lookup): a repository call there costs several times more than the query itself.
 */
export class Sql {
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

  async one<T extends QueryResultRow>(name: string, text: string, values: unknown[]): Promise<T | undefined> {
    return (await this.many<T>(name, text, values))[0];
  }
}
