// The authenticator lives with the bench, which signs its passkey sign-ins with it (the bench build leaves test/ out).
export { SoftAuthenticator, type SoftCredential, type Tweaks } from '../../bench/lib/soft-authenticator';
