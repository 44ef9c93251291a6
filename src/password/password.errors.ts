import { defineErrors } from '../errors/app-error';

export const PasswordErrors = defineErrors({
  EMAIL_TAKEN: 'This email is already registered.',
  USERNAME_TAKEN: 'This username is already taken.',
  INVALID_CREDENTIALS: 'Invalid credentials.',
});

export const emailTaken = () => PasswordErrors.EMAIL_TAKEN({ fields: [{ field: 'email', message: PasswordErrors.catalogue.EMAIL_TAKEN }] });
export const usernameTaken = () => PasswordErrors.USERNAME_TAKEN({ fields: [{ field: 'username', message: PasswordErrors.catalogue.USERNAME_TAKEN }] });
