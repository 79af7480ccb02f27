// The API token: kept in sessionStorage (this tab only) and sent as
// `Authorization: Bearer`. A 401 shows the token form; a refused token is
// dropped and the form says why.
import { $ } from './dom.js';

const TOKEN_KEY = 'sluice.token';

// Bumped each time a token is submitted: a 401 to a request sent before
// (without it, or with an older one) must not overwrite what the answer
// to the new token says.
let authEpoch = 0;

// What a request is sent with: the token (or null) and the epoch it is of.
export function currentToken() {
  return { token: sessionStorage.getItem(TOKEN_KEY), epoch: authEpoch };
}

// The server answered 401 (`err`) to a request sent with `sent`.
export function tokenRefused(err, sent) {
  if (sent.epoch === authEpoch) askForToken(err, Boolean(sent.token));
}

function askForToken(err, hadToken) {
  if (hadToken) sessionStorage.removeItem(TOKEN_KEY);
  $('forget-token').hidden = true;
  $('auth-msg').textContent = hadToken
    ? `The server refused the token: ${err.message}`
    : 'This server needs a bearer token to show its data.';
  $('auth').hidden = false;
  $('auth-token').focus();
}

// Wires the token form and the "forget token" button; `changed()` runs
// when the reader gives or forgets a token.
export function setupToken(changed) {
  $('forget-token').hidden = !sessionStorage.getItem(TOKEN_KEY);
  $('auth-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = $('auth-token').value.trim();
    if (!t) return;
    sessionStorage.setItem(TOKEN_KEY, t);
    authEpoch += 1;
    $('auth-token').value = '';
    $('auth').hidden = true;
    $('forget-token').hidden = false;
    changed();
  });
  $('forget-token').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    $('forget-token').hidden = true;
    changed();
  });
}
