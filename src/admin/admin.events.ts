/** Audit events of administration and of the account's own data rights (export, erasure). */
export const AdminEvent = {
  USER_LOCKED: 'user.locked',
  USER_UNLOCKED: 'user.unlocked',
  USER_SESSIONS_REVOKED: 'user.sessions_revoked',
  USER_DELETED: 'user.deleted',
  USER_DATA_EXPORTED: 'user.data_exported',
} as const;
