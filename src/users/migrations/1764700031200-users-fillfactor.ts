import { fillfactorMigration } from '../../db/fillfactor';

/**
 * Account rows are written after they are inserted, on hot paths: the TOTP step marked used on every
 * 2FA sign-in, the run of wrong passwords, locks. None of those columns is indexed, so with room
 * left on the row's page the update is HOT: no new entry in any of the four indexes of users. Pages
 * filled to 100% by registrations had none (each such update wrote four index entries).
 */
export const UsersFillfactor1764700031200 = fillfactorMigration('UsersFillfactor1764700031200', 'users', 90);
