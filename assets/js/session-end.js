// Why a session ended, and the way to the login page that says so. The server names the
// reason in a 401 `session_ended` body (`reason`) and in the WebSocket close reason (code
// 1008); the login page shows the matching text for `?reason=`. Unknown values are ignored.

/** SessionEndReason (openapi.json) → what the login page tells the person. */
export const END_REASONS = {
  logout: 'You signed out.',
  logged_out_elsewhere: 'You were signed out from another device.',
  idle: 'You were signed out after a period of inactivity.',
  password_changed: 'Your password was changed on another device; sign in with the new one.',
  password_reset: 'Your password was reset; sign in with the new one.',
  revoked_by_admin: 'An administrator ended your session.',
  token_reuse: 'For your safety this session was ended: the sign-in was used from two places.',
  account_deleted: 'This account was deleted.',
  suspended: 'Your account was suspended by a moderator.',
  deactivated: 'Your account was deactivated by an administrator.',
};

/**
 * Reasons whose details (until when, and the moderator's reason) are in the server's message: the
 * page that sees the session end keeps that message in sessionStorage for the login page.
 */
const DETAILED = new Set(['suspended', 'deactivated']);
const NOTICE_KEY = 'echochat.loginNotice';

/** Keeps the server's text about a suspension / deactivation for the login page. */
export function rememberEndMessage(reason, message) {
  if (!DETAILED.has(reason) || typeof message !== 'string' || !message) return;
  // The plain "this session has ended (…)" text adds nothing to the login page's own sentence.
  if (/^this session has ended\b/i.test(message)) return;
  try {
    sessionStorage.setItem(NOTICE_KEY, JSON.stringify({ reason, message }));
  } catch {
    // Storage disabled: the login page shows the general text.
  }
}

/** The kept server text for `reason` (once: it is removed), or null. */
export function takeEndMessage(reason) {
  try {
    const raw = sessionStorage.getItem(NOTICE_KEY);
    sessionStorage.removeItem(NOTICE_KEY);
    const kept = raw ? JSON.parse(raw) : null;
    return kept && kept.reason === reason && typeof kept.message === 'string' ? kept.message : null;
  } catch {
    return null;
  }
}

/** Notices the client's own pages send to the login page (not session ends). */
export const PAGE_NOTICES = {
  password_reset_done: 'Password changed. Sign in with the new one.',
};

/** Whether `reason` is one of the server's session end reasons. */
export const isEndReason = (reason) => typeof reason === 'string' && Object.hasOwn(END_REASONS, reason);

/** `/login`, with `?reason=` when the reason is a known one. */
export function loginUrl(reason) {
  return isEndReason(reason) || Object.hasOwn(PAGE_NOTICES, reason ?? '') ? `/login?reason=${encodeURIComponent(reason)}` : '/login';
}

/** The text for a `?reason=` value, or null for a missing or unknown one. */
export function reasonText(reason) {
  if (typeof reason !== 'string') return null;
  if (Object.hasOwn(END_REASONS, reason)) return END_REASONS[reason];
  if (Object.hasOwn(PAGE_NOTICES, reason)) return PAGE_NOTICES[reason];
  return null;
}
