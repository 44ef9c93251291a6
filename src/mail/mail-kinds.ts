import type { SecurityNotice } from './security-notices';

/**
 * Every mail the service sends, and the template variables each may use (README, "Mail templates").
 * Link mails carry a single-use token: their text part holds `{{link}}` on a line of its own.
 */
export const LINK_MAILS = {
  verify_email: { path: '/verify-email', variables: ['expiresIn'] },
  reset_password: { path: '/reset-password', variables: ['expiresIn'] },
  confirm_email_change: { path: '/confirm-email-change', variables: ['expiresIn', 'newEmail'] },
} as const;

/** Security notices (SecurityNotices): never a token, never a link that spends one. */
export const NOTICE_MAILS: Readonly<Record<SecurityNotice, readonly string[]>> = {
  password_changed: [],
  email_change_requested: ['newEmail'],
  two_factor_disabled: [],
  passkey_added: ['name'], // the passkey's name, as its owner gave it
};

export type LinkMailKind = keyof typeof LINK_MAILS;
export type MailKind = LinkMailKind | SecurityNotice;

/** Variables every template may use: the recipient, the service's base URL, when it happened. */
export const COMMON_VARIABLES = ['email', 'appUrl', 'time'] as const;
/** Variables of every link mail besides its own. */
export const LINK_VARIABLES = ['link'] as const;

export const MAIL_KINDS: readonly MailKind[] = [...(Object.keys(LINK_MAILS) as LinkMailKind[]), ...(Object.keys(NOTICE_MAILS) as SecurityNotice[])];

export function isLinkMail(kind: string): kind is LinkMailKind {
  return Object.prototype.hasOwnProperty.call(LINK_MAILS, kind);
}

/** Every variable a template of this kind may name. */
export function variablesOf(kind: MailKind): string[] {
  const own = isLinkMail(kind) ? [...LINK_VARIABLES, ...LINK_MAILS[kind].variables] : [...NOTICE_MAILS[kind]];
  return [...COMMON_VARIABLES, ...own];
}
