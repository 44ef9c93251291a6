/** Audit events of the passkeys module (CONTRACT.md, Passkeys). */
export const PasskeyEvent = {
  ADDED: 'passkey.added',
  REMOVED: 'passkey.removed',
  LOGIN: 'passkey.login',
  REJECTED: 'passkey.rejected',
} as const;

/** Why a ceremony was refused: `data.reason` of passkey.rejected. */
export type RejectionReason =
  | 'malformed_response'
  | 'unknown_challenge'
  | 'challenge_expired'
  | 'challenge_mismatch'
  | 'unknown_credential'
  | 'foreign_credential'
  | 'user_handle_mismatch'
  | 'verification_failed'
  | 'counter_not_increasing';
