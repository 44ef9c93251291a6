// Bouncer demo: a plain client of /graphql. Tokens live in this page's memory only (a reload signs out).
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const state = { accessToken: null, challenge: null };

  const PASSKEY = 'id name createdAt lastUsedAt backedUp';
  const OPTIONS = 'challengeId options expiresIn';
  const PAYLOAD = 'accessToken refreshToken user { id email }';
  const Q = {
    register: `mutation($input: RegisterInput!) { register(input: $input) { ${PAYLOAD} } }`,
    login: `mutation($input: LoginInput!) { login(input: $input) { __typename ... on AuthPayload { ${PAYLOAD} } ... on TwoFactorChallenge { challengeToken methods } } }`,
    verifyCode: `mutation($input: VerifyTwoFactorInput!) { verifyTwoFactor(input: $input) { ${PAYLOAD} } }`,
    me: `query { me { id email username twoFactorEnabled } passkeys { ${PASSKEY} } }`,
    logout: 'mutation { logout }',
    enableTotp: 'mutation($password: String!) { enableTwoFactor(password: $password) { secret qrCodeDataUrl } }',
    confirmTotp: 'mutation($code: String!) { confirmTwoFactor(code: $code) { codes } }',
    startRegistration: `mutation($password: String) { startPasskeyRegistration(password: $password) { ${OPTIONS} } }`,
    finishRegistration: `mutation($challengeId: ID!, $response: JSONObject!, $name: String) { finishPasskeyRegistration(challengeId: $challengeId, response: $response, name: $name) { ${PASSKEY} } }`,
    startLogin: `mutation { startPasskeyLogin { ${OPTIONS} } }`,
    finishLogin: `mutation($challengeId: ID!, $response: JSONObject!) { finishPasskeyLogin(challengeId: $challengeId, response: $response) { ${PAYLOAD} } }`,
    startSecondFactor: `mutation($challengeToken: String!) { startTwoFactorPasskey(challengeToken: $challengeToken) { ${OPTIONS} } }`,
    verifySecondFactor: `mutation($challengeToken: String!, $challengeId: ID!, $response: JSONObject!) { verifyTwoFactorPasskey(challengeToken: $challengeToken, challengeId: $challengeId, response: $response) { ${PAYLOAD} } }`,
    rename: `mutation($id: ID!, $name: String!) { renamePasskey(id: $id, name: $name) { ${PASSKEY} } }`,
    remove: 'mutation($id: ID!, $password: String) { deletePasskey(id: $id, password: $password) }',
  };

  async function gql(query, variables = {}) {
    const headers = { 'content-type': 'application/json' };
    if (state.accessToken) headers.authorization = `Bearer ${state.accessToken}`;
    const res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    const body = await res.json();
    if (body.errors && body.errors.length) {
      const error = body.errors[0];
      const field = error.extensions && error.extensions.fields && error.extensions.fields[0];
      throw new Error(field ? field.message : `${error.message} (${error.extensions && error.extensions.code})`);
    }
    return body.data;
  }

  function say(text, kind = 'error') {
    const box = $('message');
    box.textContent = text;
    box.className = kind;
    box.hidden = !text;
  }

  /** Runs a handler with its button disabled and its error shown. */
  function action(handler) {
    return async (event) => {
      if (event) event.preventDefault();
      const control = event && (event.submitter || event.currentTarget);
      if (control) control.disabled = true;
      say('');
      try {
        await handler(event);
      } catch (error) {
        say(error.name === 'NotAllowedError' ? 'The passkey request was cancelled or timed out.' : error.message);
      } finally {
        if (control) control.disabled = false;
      }
    };
  }

  function show(view) {
    for (const id of ['signed-out', 'second-step', 'signed-in']) $(id).hidden = id !== view;
  }

  // --- WebAuthn: the browser turns the server's JSON options into a ceremony and its result back into JSON.
  const webauthn = {
    supported: () => typeof window.PublicKeyCredential === 'function' && typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function',
    async create(options) {
      const credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
      return credential.toJSON();
    },
    async get(options) {
      const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      return credential.toJSON();
    },
  };

  async function signedIn(payload) {
    state.accessToken = payload.accessToken;
    state.challenge = null;
    await refresh();
    show('signed-in');
  }

  async function refresh() {
    const data = await gql(Q.me);
    const me = data.me;
    $('status').textContent = `Signed in as ${me.email}`;
    const account = $('account');
    account.replaceChildren();
    for (const [term, value] of [['Email', me.email], ['Username', me.username || '—'], ['Two-factor', me.twoFactorEnabled ? 'on' : 'off'], ['Passkeys', String(data.passkeys.length)]]) {
      const dt = document.createElement('dt');
      dt.textContent = term;
      const dd = document.createElement('dd');
      dd.textContent = value;
      account.append(dt, dd);
    }
    $('totp-state').textContent = me.twoFactorEnabled
      ? 'On: a password sign-in asks for a code from the app (or a passkey).'
      : 'Off: add an authenticator app to ask for a code after the password.';
    $('totp-enable-form').hidden = me.twoFactorEnabled;
    if (me.twoFactorEnabled) $('totp-setup').hidden = true;
    renderPasskeys(data.passkeys);
  }

  function renderPasskeys(passkeys) {
    const list = $('passkey-list');
    list.replaceChildren();
    if (!passkeys.length) {
      const empty = document.createElement('li');
      empty.className = 'empty';
      empty.textContent = 'No passkey yet.';
      list.append(empty);
    }
    for (const passkey of passkeys) {
      const item = document.createElement('li');
      item.dataset.id = passkey.id;
      const name = document.createElement('strong');
      name.textContent = passkey.name;
      const meta = document.createElement('small');
      const used = passkey.lastUsedAt ? `last used ${new Date(passkey.lastUsedAt).toLocaleString()}` : 'never used';
      meta.textContent = `added ${new Date(passkey.createdAt).toLocaleString()}, ${used}${passkey.backedUp ? ', synced' : ''}`;
      const rename = document.createElement('button');
      rename.type = 'button';
      rename.textContent = 'Rename';
      rename.addEventListener('click', action(async () => {
        const input = $('passkey-form').elements.name;
        if (!input.value.trim()) throw new Error('Type the new name in the Name field first.');
        await gql(Q.rename, { id: passkey.id, name: input.value });
        input.value = '';
        await refresh();
      }));
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'danger';
      remove.textContent = 'Remove';
      remove.addEventListener('click', action(async () => {
        await gql(Q.remove, { id: passkey.id, password: $('passkey-form').elements.password.value || null });
        say(`Removed ${passkey.name}.`, 'ok');
        await refresh();
      }));
      item.append(name, meta, rename, remove);
      list.append(item);
    }
  }

  function secondStep(challenge) {
    state.challenge = challenge;
    const passkey = challenge.methods.includes('PASSKEY') && webauthn.supported();
    $('second-step-passkey').hidden = !passkey;
    $('second-step-or').hidden = !passkey;
    show('second-step');
  }

  $('register-form').addEventListener('submit', action(async (event) => {
    const f = event.target.elements;
    const data = await gql(Q.register, { input: { email: f.email.value, password: f.password.value } });
    event.target.reset();
    await signedIn(data.register);
  }));

  $('login-form').addEventListener('submit', action(async (event) => {
    const f = event.target.elements;
    const result = (await gql(Q.login, { input: { identifier: f.identifier.value, password: f.password.value } })).login;
    event.target.reset();
    if (result.__typename === 'TwoFactorChallenge') secondStep(result);
    else await signedIn(result);
  }));

  $('passkey-login').addEventListener('click', action(async () => {
    const { challengeId, options } = (await gql(Q.startLogin)).startPasskeyLogin;
    const response = await webauthn.get(options);
    await signedIn((await gql(Q.finishLogin, { challengeId, response })).finishPasskeyLogin);
  }));

  $('code-form').addEventListener('submit', action(async (event) => {
    const code = event.target.elements.code.value;
    const data = await gql(Q.verifyCode, { input: { challengeToken: state.challenge.challengeToken, code } });
    event.target.reset();
    await signedIn(data.verifyTwoFactor);
  }));

  $('second-step-passkey').addEventListener('click', action(async () => {
    const challengeToken = state.challenge.challengeToken;
    const { challengeId, options } = (await gql(Q.startSecondFactor, { challengeToken })).startTwoFactorPasskey;
    const response = await webauthn.get(options);
    await signedIn((await gql(Q.verifySecondFactor, { challengeToken, challengeId, response })).verifyTwoFactorPasskey);
  }));

  $('second-step-cancel').addEventListener('click', () => {
    state.challenge = null;
    show('signed-out');
  });

  $('sign-out').addEventListener('click', action(async () => {
    await gql(Q.logout).catch(() => undefined);
    state.accessToken = null;
    $('status').textContent = 'Signed out';
    $('recovery').hidden = true;
    show('signed-out');
  }));

  $('totp-enable-form').addEventListener('submit', action(async (event) => {
    const setup = (await gql(Q.enableTotp, { password: event.target.elements.password.value })).enableTwoFactor;
    event.target.reset();
    $('totp-qr').src = setup.qrCodeDataUrl;
    $('totp-secret').textContent = setup.secret;
    $('totp-setup').hidden = false;
    $('totp-enable-form').hidden = true;
  }));

  $('totp-confirm-form').addEventListener('submit', action(async (event) => {
    const codes = (await gql(Q.confirmTotp, { code: event.target.elements.code.value })).confirmTwoFactor.codes;
    event.target.reset();
    const list = $('recovery-codes');
    list.replaceChildren(...codes.map((code) => Object.assign(document.createElement('li'), { textContent: code })));
    $('recovery').hidden = false;
    await refresh();
  }));

  $('passkey-form').addEventListener('submit', action(async (event) => {
    const f = event.target.elements;
    const { challengeId, options } = (await gql(Q.startRegistration, { password: f.password.value || null })).startPasskeyRegistration;
    const response = await webauthn.create(options);
    const passkey = (await gql(Q.finishRegistration, { challengeId, response, name: f.name.value || null })).finishPasskeyRegistration;
    event.target.reset();
    say(`Added ${passkey.name}. Sign out and try "Sign in with a passkey".`, 'ok');
    await refresh();
  }));

  if (!webauthn.supported()) {
    for (const id of ['passkey-login', 'second-step-passkey']) $(id).disabled = true;
    $('passkey-form').querySelector('button').disabled = true;
    say('This browser cannot use passkeys here (WebAuthn needs a recent browser, on https or localhost).', 'info');
  }
  show('signed-out');
})();
