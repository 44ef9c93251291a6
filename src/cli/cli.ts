import 'reflect-metadata';
import { ADMIN_COMMANDS, isAdminCommand, runAdminCommand } from '../admin/admin-cli';
import { loadConfig } from '../app/config';
import { openDataSource, resolveDatabase } from '../app/database';
import { modules } from '../app/modules';
import { AuditService } from '../audit/audit.service';
import { ConfigError } from '../config/parse';
import { runMigrations } from '../db/migrate';
import { Sql } from '../db/sql';
import { createLogger } from '../logging/logger';
import { UsersService } from '../users/users.service';

const USAGE = `usage: npm run cli -- grant-role EMAIL ROLE | revoke-role EMAIL ROLE | ${Object.values(ADMIN_COMMANDS).join(' | ')}`;

/** Operator commands against the service's own database (same DATABASE_URL rule as the service). */
async function main(argv: string[]): Promise<number> {
  const [command, email, role] = argv;
  if (isAdminCommand(command) ? !email : !['grant-role', 'revoke-role'].includes(command ?? '') || !email || !role) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  const logger = createLogger({ logLevel: 'warn' }, []);
  const database = await resolveDatabase(config, logger);
  const dataSource = openDataSource({ url: database.url, poolSize: 2, connectTimeoutMs: config.dbConnectTimeoutMs });
  try {
    await dataSource.initialize();
    await runMigrations(dataSource);
    if (isAdminCommand(command)) {
      process.stdout.write(await runAdminCommand(command, argv.slice(1), config, logger, dataSource));
      return 0;
    }
    const users = new UsersService(dataSource, Sql.of(dataSource), new AuditService(new Set(modules.flatMap((m) => m.auditEvents ?? []))));
    // Losing a role ends the account's sessions; running instances refuse their tokens within 5 s.
    const { user, endedSessions } = await users.changeRoleByEmail(email, role.toUpperCase(), command === 'grant-role');
    const ended = endedSessions ? ` (${endedSessions} session${endedSessions === 1 ? '' : 's'} ended)` : '';
    process.stdout.write(`${user.email}: roles ${user.roles.join(', ')}${ended}\n`);
    return 0;
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await database.embedded?.stop();
  }
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    const message = error instanceof ConfigError ? `configuration error: ${error.message}` : (error as Error).message;
    process.stderr.write(`bouncer cli: ${message}\n`);
    process.exit(1);
  });
