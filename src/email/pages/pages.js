// The hosted pages of emailed links (/verify-email, /reset-password, /confirm-email-change). The
// token travels in the fragment (#token=...), which browsers never send to a server, so link
// scanners and proxies cannot spend it; nothing is spent until the user presses the button (a
// scanner that runs scripts does not). No inline script: the Content-Security-Policy forbids it.
'use strict';
(function () {
  var page = document.body.dataset.page;
  var token = new URLSearchParams(location.hash.slice(1)).get('token');
  // Out of the address bar and the history at once.
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  // Another link opened in this tab changes only the fragment: start over with its token.
  window.addEventListener('hashchange', function () {
    location.reload();
  });

  var form = document.getElementById('action');
  var submit = document.getElementById('submit');
  var status = document.getElementById('status');
  var MUTATIONS = {
    'verify-email': 'mutation VerifyEmail($token: String!) { verifyEmail(token: $token) }',
    'confirm-email-change': 'mutation ConfirmEmailChange($token: String!) { confirmEmailChange(token: $token) }',
    'reset-password': 'mutation ResetPassword($token: String!, $newPassword: String!) { resetPassword(token: $token, newPassword: $newPassword) }',
  };
  var DONE = {
    'verify-email': 'Your email address is confirmed. You can close this page.',
    'confirm-email-change': 'Your new email address is confirmed: sign in with it from now on.',
    'reset-password': 'Your password is changed and every session of the account has ended. Sign in with the new password.',
  };
  var ERRORS = {
    INVALID_TOKEN: 'This link no longer works: it was used already, it expired, or a newer one was sent. Ask for a new link.',
    EMAIL_TAKEN: 'Another account uses this address now, so it cannot become yours.',
    RATE_LIMITED: 'Too many attempts. Wait a little and try again.',
  };

  function show(kind, text) {
    status.textContent = text;
    status.className = 'status ' + kind;
    status.hidden = false;
  }

  function fieldError(name, text) {
    var input = document.getElementById(name);
    var note = document.getElementById(name + '-error');
    if (!input || !note) return false;
    note.textContent = text || '';
    note.hidden = !text;
    input.setAttribute('aria-invalid', text ? 'true' : 'false');
    return true;
  }

  async function call(variables) {
    // Relative: the API lives beside the page, also behind a path prefix.
    var res = await fetch('graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: MUTATIONS[page], variables: variables }),
      credentials: 'omit',
      cache: 'no-store',
    });
    return res.json();
  }

  if (!token) {
    show('error', 'This link is incomplete. Open the link from the email again, or copy the whole address into the browser.');
    return;
  }
  form.hidden = false;

  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    var variables = { token: token };
    if (page === 'reset-password') {
      var password = document.getElementById('newPassword').value;
      fieldError('newPassword', '');
      var mismatch = password !== document.getElementById('confirmPassword').value;
      fieldError('confirmPassword', mismatch ? 'The two passwords differ.' : '');
      if (mismatch) return;
      variables.newPassword = password;
    }
    submit.disabled = true;
    status.hidden = true;
    try {
      var body = await call(variables);
      var error = body.errors && body.errors[0];
      if (!error && body.data) {
        form.hidden = true;
        show('ok', DONE[page]);
        return;
      }
      var code = error && error.extensions && error.extensions.code;
      var fields = (error && error.extensions && error.extensions.fields) || [];
      var shown = fields.filter(function (f) { return fieldError(f.field, f.message); }).length;
      if (!shown) show('error', ERRORS[code] || 'Something went wrong. Try again in a moment.');
      if (code === 'INVALID_TOKEN' || code === 'EMAIL_TAKEN') form.hidden = true;
    } catch (e) {
      show('error', 'The service could not be reached. Check your connection and try again.');
    } finally {
      submit.disabled = false;
    }
  });
})();
