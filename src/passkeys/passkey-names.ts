import { badField } from '../errors/core-errors';

/** Longest passkey name, characters. */
export const MAX_PASSKEY_NAME_CHARS = 64;

/**
 * Providers that say who they are through the AAGUID of their passkeys (facts from the community
 * list passkeydeveloper/passkey-authenticator-aaguids), so a new passkey gets a name a person
 * recognises in their list; any other gets a generic one. Only a label: never trusted for security.
 */
const PROVIDERS: Readonly<Record<string, string>> = {
  'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4': 'Google Password Manager',
  'adce0002-35bc-c60a-648b-0b25f1f05503': 'Chrome on Mac',
  '08987058-cadc-4b81-b6e1-30de50dcbe96': 'Windows Hello',
  '9ddd1817-af5a-4672-a2b9-3e3dd95000a9': 'Windows Hello',
  '6028b017-b1d4-4c02-b4b3-afcdafc96bb2': 'Windows Hello',
  'fbfc3007-154e-4ecc-8c0b-6e020557d7bd': 'iCloud Keychain',
  'dd4ec289-e01d-41c9-bb89-70fa845d4bf2': 'iCloud Keychain (Managed)',
  'bada5566-a7aa-401f-bd96-45619a55120d': '1Password',
  'd548826e-79b4-db40-a3d8-11116f7e8349': 'Bitwarden',
  '531126d6-e717-415c-9320-3d9aa6981239': 'Dashlane',
  'b84e4048-15dc-4dd0-8640-f4f60813c8af': 'NordPass',
  '0ea242b4-43c4-4a1b-8b17-dd6d0b6baec6': 'Keeper',
  '53414d53-554e-4700-0000-000000000000': 'Samsung Pass',
  'b5397666-4885-aa6b-cebf-e52262a439a2': 'Chromium Browser',
};

export function defaultPasskeyName(aaguid: string, backedUp: boolean): string {
  return PROVIDERS[aaguid.toLowerCase()] ?? (backedUp ? 'Synced passkey' : 'Passkey');
}

/** A name as the user typed it: NFKC, trimmed, 1 to 64 printable characters (BAD_USER_INPUT otherwise). */
export function checkPasskeyName(field: string, raw: unknown): string {
  if (typeof raw !== 'string') throw badField(field, 'Give the passkey a name.');
  const name = raw.normalize('NFKC').trim();
  if (name.length === 0) throw badField(field, 'Give the passkey a name.');
  if ([...name].length > MAX_PASSKEY_NAME_CHARS) throw badField(field, `A passkey name has at most ${MAX_PASSKEY_NAME_CHARS} characters.`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) throw badField(field, 'A passkey name cannot hold control characters.');
  return name;
}
