import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { Throttle } from '../abuse/throttle';
import type { Config } from '../app/config';
import { compose } from '../app/kernel';
import { AuditService } from '../audit/audit.service';
import { resolveSecrets } from '../crypto/dev-secrets';
import type { RequestInfo } from '../context/request-info';
import { AccountAdmin } from './account-admin.service';
import { corePersonalData } from './core-personal-data';
import { PersonalData } from './personal-data.service';

/** The operator's account commands (`npm run cli -- lock-user EMAIL ...`): the same services the API uses. */
export const ADMIN_COMMANDS = {
  'lock-user': 'lock-user EMAIL [REASON]',
  'unlock-user': 'unlock-user EMAIL',
  'delete-user': 'delete-user EMAIL',
  'export-user': 'export-user EMAIL',
} as const;
export type AdminCommand = keyof typeof ADMIN_COMMANDS;

export function isAdminCommand(command: string | undefined): command is AdminCommand {
  return command !== undefined && Object.prototype.hasOwnProperty.call(ADMIN_COMMANDS, command);
}

const CLI_REQUEST: RequestInfo = { ip: null, userAgent: 'bouncer-cli' };

/**
 * Runs one command against the service's database, with the service's own container (so an export
 * holds every module's data and a lock follows the same rules, audit events included). Running
 * instances learn of the sessions it ends from their next revocation poll (within a second).
 * Returns what to print.
 */
export async function runAdminCommand(command: AdminCommand, args: string[], config: Config, logger: Logger, dataSource: DataSource): Promise<string> {
  const [email, ...rest] = args;
  const c = await compose(config, logger, dataSource, resolveSecrets(config));
  try {
    const accounts = c.get(AccountAdmin);
    const userId = await accounts.idByEmail(email);
    switch (command) {
      case 'lock-user': {
        const user = await accounts.lock(null, userId, rest.join(' ') || null, CLI_REQUEST);
        return `${user.email}: locked at ${user.lockedAt?.toISOString()}\n`;
      }
      case 'unlock-user':
        return `${(await accounts.unlock(null, userId, CLI_REQUEST)).email}: unlocked\n`;
      case 'delete-user':
        await accounts.delete(null, userId, CLI_REQUEST);
        return `${email.trim().toLowerCase()}: deleted\n`;
      case 'export-user': {
        // The operator's export has no cap on audit events (the GraphQL one keeps a response small).
        const exporter = new PersonalData(dataSource, c, c.get(AuditService), corePersonalData(dataSource, null));
        return `${JSON.stringify(await exporter.of(userId, 'cli', CLI_REQUEST), null, 2)}\n`;
      }
    }
  } finally {
    await c.get(Throttle).close();
  }
}
