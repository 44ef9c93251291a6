import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A migration that leaves `percent` of each new page of `table` filled, the rest for updates: an
 * update that changes no indexed column and finds room on its row's page is HOT (no index entry).
 * `name` ends in the migration's timestamp, which orders it among every module's migrations.
 */
export function fillfactorMigration(name: string, table: string, percent: number): new () => MigrationInterface {
  if (!/^[a-z_]+$/.test(table) || !Number.isInteger(percent) || percent < 10 || percent > 100) throw new Error(`bad fillfactor ${table} ${percent}`);
  const migration = class implements MigrationInterface {
    name = name;

    async up(q: QueryRunner): Promise<void> {
      await q.query(`ALTER TABLE ${table} SET (fillfactor = ${percent})`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`ALTER TABLE ${table} RESET (fillfactor)`);
    }
  };
  // The class's own name too: migrations are ordered across modules by it (src/app/database.ts).
  Object.defineProperty(migration, 'name', { value: name });
  return migration;
}
