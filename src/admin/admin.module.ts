import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { defineModule } from '../module';
import { PasswordService } from '../password/password.service';
import { RevocationWatcher } from '../sessions/revocation-watcher';
import { RecentSignIn } from '../sessions/recent-sign-in';
import { SessionsService } from '../sessions/sessions.service';
import { SecondFactorCheck } from '../sign-in/second-factor-check';
import { AccountAdmin } from './account-admin.service';
import { AccountDeletion } from './account-deletion';
import { readAdminConfig, type AdminConfig } from './admin.config';
import { AdminEvent } from './admin.events';
import { AdminResolver } from './admin.resolver';
import { AuditLog } from './audit-log.service';
import { corePersonalData, EXPORT_AUDIT_EVENTS_MAX } from './core-personal-data';
import { Admin1733200000000 } from './migrations/1733200000000-admin';
import { MyAccount } from './my-account.service';
import { MyAccountResolver } from './my-account.resolver';
import { PersonalData } from './personal-data.service';

/**
 * Administration and the account's own data rights: lock, unlock, end sessions and delete accounts
 * (GraphQL for administrators, the CLI for operators), the audit log with keyset pages and its
 * retention, and the owner's export (myData) and erasure (deleteMyAccount). Last in the module
 * list: it uses the password re-check and the second-factor check of earlier modules.
 */
export const adminModule = defineModule<AdminConfig>({
  name: 'admin',
  readConfig: readAdminConfig,
  migrations: [Admin1733200000000],
  auditEvents: Object.values(AdminEvent),
  resolvers: [AdminResolver, MyAccountResolver],
  cleanupJobs: (config) => [
    {
      name: 'auditEvents',
      sql: `DELETE FROM audit_events WHERE id IN (
              SELECT id FROM audit_events WHERE created_at < now() - make_interval(days => $1) LIMIT $2)`,
      params: [config.auditRetentionDays],
    },
  ],
  register(c) {
    const dataSource = c.get(DataSource);
    const audit = c.get(AuditService);
    const deletion = c.set(AccountDeletion, new AccountDeletion(audit));
    const accounts = c.set(AccountAdmin, new AccountAdmin(dataSource, c.get(SessionsService), c.get(RevocationWatcher), audit, deletion));
    const auditLog = c.set(AuditLog, new AuditLog(dataSource));
    const personalData = c.set(PersonalData, new PersonalData(dataSource, c, audit, corePersonalData(dataSource, EXPORT_AUDIT_EVENTS_MAX)));
    const myAccount = c.set(MyAccount, new MyAccount(dataSource, c.get(PasswordService), c.get(SecondFactorCheck), c.get(RevocationWatcher), deletion, c.get(RecentSignIn)));
    c.set(AdminResolver, new AdminResolver(accounts, auditLog));
    c.set(MyAccountResolver, new MyAccountResolver(myAccount, personalData, auditLog));
  },
});
