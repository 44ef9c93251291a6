import type { TestServer } from './test-server';

/** Audit event types of an account, oldest first. */
export async function auditTypes(server: TestServer, userId: string): Promise<string[]> {
  const rows: Array<{ type: string }> = await server.running.services.dataSource.query(
    'SELECT type FROM audit_events WHERE user_id = $1 ORDER BY id',
    [userId],
  );
  return rows.map((r) => r.type);
}
