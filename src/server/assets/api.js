// The /v1 API client: GET a path with the current token, answer its JSON
// or throw an ApiError (status 0 when the server did not answer).
import { currentToken, tokenRefused } from './token.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(path) {
  const headers = { Accept: 'application/json' };
  const sent = currentToken();
  if (sent.token) headers.Authorization = 'Bearer ' + sent.token;
  let r;
  try {
    r = await fetch(path, { headers, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'network', 'the server did not answer (' + e.message + ')');
  }
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!r.ok) {
    const err = body && body.error ? body.error : {};
    const e = new ApiError(r.status, err.code || 'http_' + r.status,
      err.message || `${r.status} ${r.statusText}`);
    if (r.status === 401) tokenRefused(e, sent);
    throw e;
  }
  if (body === null) throw new ApiError(r.status, 'bad_json', `${path}: the answer is not JSON`);
  return body;
}

// A `next` address from the API, kept only if it is one of its own paths.
export const apiPath = (p, prefix) => (typeof p === 'string' && p.startsWith(prefix) ? p : null);
