import { featureConfig, loadConfig } from '../../src/app/config';
import { passkeysModule } from '../../src/passkeys/passkeys.module';
import { productionEnv, refusedVariable } from '../support/config-env';

const passkeys = (env: Record<string, string>) => featureConfig(loadConfig(env), passkeysModule);
const production = (): Record<string, string> => {
  // Without APP_URL, whose host and origin would be the defaults.
  const { WEBAUTHN_RP_ID: _r, WEBAUTHN_ORIGINS: _o, APP_URL: _a, ...env } = productionEnv();
  return env;
};

test("development defaults to the service's own origin on localhost, following PORT", () => {
  expect(passkeys({})).toMatchObject({ rpId: 'localhost', origins: ['http://localhost:4000'], rpName: 'Bouncer', demoPage: true });
  expect(passkeys({ PORT: '5123' }).origins).toEqual(['http://localhost:5123']);
});

test('APP_URL gives the RP ID (its host) and the origin (its own), in development and production', () => {
  expect(passkeys({ APP_URL: 'https://app.example.com/account' })).toMatchObject({ rpId: 'app.example.com', origins: ['https://app.example.com'] });
  expect(passkeys({ ...production(), APP_URL: 'https://app.example.com' })).toMatchObject({ rpId: 'app.example.com', origins: ['https://app.example.com'] });
  expect(refusedVariable({ APP_URL: 'not a url' })).toBe('APP_URL');
});

test('production needs APP_URL (the mail module refuses to start without it), and the RP follows it unless WEBAUTHN_* say otherwise', () => {
  expect(refusedVariable(production())).toBe('APP_URL');
  expect(passkeys({ ...production(), APP_URL: 'https://app.example.com' })).toMatchObject({ rpId: 'app.example.com', origins: ['https://app.example.com'] });
  expect(passkeys({ ...production(), APP_URL: 'https://app.example.com', WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'https://example.com' })).toMatchObject({
    rpId: 'example.com',
    origins: ['https://example.com'],
  });
});

test('several origins on the RP ID and its subdomains are accepted; any other pairing is refused at start', () => {
  const env = { WEBAUTHN_RP_ID: 'Example.com', WEBAUTHN_ORIGINS: 'https://example.com, https://app.example.com:8443,https://example.com/' };
  expect(passkeys(env)).toMatchObject({ rpId: 'example.com', origins: ['https://example.com', 'https://app.example.com:8443'] });
  for (const origins of ['https://example.org', 'https://badexample.com', 'http://example.com', 'https://example.com/login', 'example.com']) {
    expect(refusedVariable({ WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: origins })).toBe('WEBAUTHN_ORIGINS');
  }
  for (const rpId of ['https://example.com', 'example.com:443', 'exa mple.com']) expect(refusedVariable({ WEBAUTHN_RP_ID: rpId })).toBe('WEBAUTHN_RP_ID');
});

test('the demo page is on outside production, off in production unless DEMO_PAGE is set', () => {
  expect(passkeys({ NODE_ENV: 'test' }).demoPage).toBe(true);
  expect(passkeys(productionEnv()).demoPage).toBe(false);
  expect(passkeys({ ...productionEnv(), DEMO_PAGE: 'true' }).demoPage).toBe(true);
  expect(passkeys({ DEMO_PAGE: 'off' }).demoPage).toBe(false);
  expect(refusedVariable({ DEMO_PAGE: 'maybe' })).toBe('DEMO_PAGE');
});

test('WEBAUTHN_RP_NAME names the service to the authenticator; ceremony starts are budgeted per address in production', () => {
  expect(passkeys({ WEBAUTHN_RP_NAME: 'Acme Accounts' }).rpName).toBe('Acme Accounts');
  expect(passkeys(productionEnv()).ceremoniesPerWindow).toBe(300);
  expect(passkeys({}).ceremoniesPerWindow).toBeGreaterThan(10_000);
});
