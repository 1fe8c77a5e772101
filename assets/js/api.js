// REST client for /api/v1: JSON in and out, `{code, message}` errors become ApiError,
// and a 401 triggers one cookie refresh (shared by concurrent callers) and one retry. A 401
// `session_ended` (the session was ended: logout elsewhere, idle, password change, …) is not
// retried: the page goes to /login?reason=<reason> so the login page can say why.
// Tokens live in HttpOnly cookies; this module never sees or stores them.

import { loginUrl, rememberEndMessage } from './session-end.js';

const BASE = '/api/v1';

export class ApiError extends Error {
  /**
   * `reason`: a session_ended error's SessionEndReason; `retryAfter`: seconds from a 429's
   * Retry-After header. Both undefined otherwise.
   */
  constructor(status, code, message, { reason, retryAfter } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.reason = reason;
    this.retryAfter = retryAfter;
  }
}

let refreshing = null;
let onAuthLost = (reason, message) => {
  rememberEndMessage(reason, message); // a suspension's until + reason, for the login page
  location.assign(loginUrl(reason));
};

/** Replace what happens when the session cannot be restored (default: go to /login[?reason=]). */
export function setAuthLostHandler(fn) {
  onAuthLost = fn;
}

async function raw(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  // Body-less writes still send `{}`: some endpoints (logout, refresh) require a JSON body.
  if (body === undefined && method !== 'GET' && method !== 'HEAD') body = {};
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(BASE + path, init);
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const code = data && typeof data.code === 'string' ? data.code : `http_${res.status}`;
    const message = data && typeof data.message === 'string' ? data.message : `Request failed (${res.status})`;
    const reason = data && typeof data.reason === 'string' ? data.reason : undefined;
    const seconds = Number.parseInt(res.headers.get('Retry-After') ?? '', 10);
    throw new ApiError(res.status, code, message, { reason, retryAfter: Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined });
  }
  return data;
}

function is401(err) {
  return err instanceof ApiError && err.status === 401;
}

/** A 401 saying the session is over for good (no refresh can bring it back). */
function isEnded(err) {
  return is401(err) && err.code === 'session_ended';
}

/** POST /auth/refresh once, however many requests are waiting for it. */
export function refresh() {
  if (!refreshing) {
    refreshing = raw('POST', '/auth/refresh', {}).finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/**
 * Call the API. With `auth` (the default) a 401 refreshes the session cookie and retries once;
 * if that fails too the auth-lost handler runs (redirect to /login, with the reason of a
 * `session_ended`) and the 401 is rethrown. A `session_ended` is not refreshed first.
 */
export async function request(method, path, body, { auth = true } = {}) {
  try {
    return await raw(method, path, body);
  } catch (err) {
    if (!auth || !is401(err)) throw err;
    if (isEnded(err)) {
      onAuthLost(err.reason, err.message);
      throw err;
    }
  }
  try {
    await refresh();
    return await raw(method, path, body);
  } catch (err) {
    if (is401(err)) onAuthLost(err.reason, err.message);
    throw err;
  }
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body);
export const put = (path, body) => request('PUT', path, body);
export const patch = (path, body) => request('PATCH', path, body);
export const del = (path, body) => request('DELETE', path, body);

/** `path` with query parameters; empty or missing values are left out. */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') q.set(key, String(value));
  }
  const text = q.toString();
  return text ? `${path}${path.includes('?') ? '&' : '?'}${text}` : path;
}

/**
 * Every item of a paged list (`{<field>: [...], next_cursor?}`), following `next_cursor` from
 * `cursor` on (or from the first page). Stops after `maxPages` pages as a safety net.
 */
export async function allPages(path, field, { cursor, maxPages = 100 } = {}) {
  const items = [];
  for (let i = 0; i < maxPages; i += 1) {
    const page = await get(withQuery(path, { cursor }));
    items.push(...(page?.[field] ?? []));
    cursor = page?.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/**
 * The signed-in account, `{user, permissions}`; refreshes the cookie when needed (used before
 * every WebSocket reconnect).
 */
export const ensureSession = () => get('/users/me');

/** Human text for any error thrown by this module or by fetch itself. */
export function errorMessage(err) {
  if (err instanceof ApiError && err.status === 429) {
    return err.retryAfter !== undefined ? `Too many attempts — try again in ${err.retryAfter} s.` : 'Too many attempts — try again later.';
  }
  if (err instanceof ApiError) return err.message;
  return 'Cannot reach the server. Check your connection and try again.';
}
