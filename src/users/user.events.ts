/** Audit events of accounts. */
export const UserEvent = {
  ROLES_CHANGED: 'user.roles_changed',
} as const;
