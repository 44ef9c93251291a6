import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Sql } from '../db/sql';
import { defineModule } from '../module';
import { RevocationWatcher } from '../sessions/revocation-watcher';
import { AccountCreatedHooks } from './account-created';
import { MailboxProvenHooks } from './mailbox-proven';
import { AccountLock1733100000000 } from './migrations/1733100000000-account-lock';
import { UsersFillfactor1764700031200 } from './migrations/1764700031200-users-fillfactor';
import { UserEntity } from './user.entity';
import { UserEvent } from './user.events';
import { UsersResolver } from './users.resolver';
import { UsersService } from './users.service';

/** Accounts: `me`, the admin list and roles. */
export const usersModule = defineModule({
  name: 'users',
  entities: [UserEntity],
  migrations: [AccountLock1733100000000, UsersFillfactor1764700031200],
  auditEvents: Object.values(UserEvent),
  resolvers: [UsersResolver],
  register(c) {
    c.set(AccountCreatedHooks, new AccountCreatedHooks());
    c.set(MailboxProvenHooks, new MailboxProvenHooks());
    const users = c.set(UsersService, new UsersService(c.get(DataSource), c.get(Sql), c.get(AuditService), c.get(RevocationWatcher)));
    c.set(UsersResolver, new UsersResolver(users));
  },
});
