import { defineErrors } from '../errors/app-error';

/** CONTRACT.md, Passkeys: one generic answer for every refused ceremony; the reason goes to the audit trail. */
export const PasskeyErrors = defineErrors({
  PASSKEY_REJECTED: 'The passkey could not be verified.',
  PASSKEY_ALREADY_REGISTERED: 'This passkey is already registered.',
});
