// Activity reports and the idle-logout warning. This module
// - notices the person's activity (keys, pointer, wheel, touch, focus, coming back to the tab),
// - reports it over the WebSocket (`{"type":"activity"}`) at most every 30 s (every
//   max(idle/5, 5 s) when the idle timeout is shorter than that allows): the server uses it for
//   auto-away (presence `away` after `[presence] auto_away_minutes` without activity on any
//   connection) and for the idle logout,
// - shares the time of the last report with the other tabs through localStorage
//   (`echochat.activity`): they are the same session, so one report counts for all,
// and, when the server ends sessions after `idle_timeout_secs` without activity
// (GET /users/me; absent = off):
// - shows a non-modal warning with a countdown a minute before the server's deadline (at half
//   the timeout when it is under 90 s), with "Stay signed in", which reports activity at once.
// When the deadline passes the server closes the socket with 1008 "idle" and socket.js takes
// the page to /login?reason=idle.

import { byId } from './dom.js';

const KEY = 'echochat.activity';
const EVENTS = ['keydown', 'pointerdown', 'wheel', 'touchstart', 'focusin'];
const AUTO_AWAY_REPORT_MS = 30000;

function readShared() {
  try {
    const value = Number(localStorage.getItem(KEY));
    return Number.isFinite(value) ? value : 0;
  } catch {
    return 0;
  }
}

function writeShared(time) {
  try {
    localStorage.setItem(KEY, String(time));
  } catch {
    // Storage disabled: this tab still reports for itself.
  }
}

export function createIdleWarning({ store, socket, idleSecs }) {
  const idleMs = idleSecs ? idleSecs * 1000 : Infinity; // no idle logout: never warn
  const reportEvery = Math.min(AUTO_AWAY_REPORT_MS, Math.max(idleMs / 5, 5000));
  const warnBefore = idleMs >= 90000 ? 60000 : idleMs / 2;
  const warning = byId('idle-warning');
  const countdown = byId('idle-countdown');
  const announce = byId('idle-announce');

  let lastReport = Date.now(); // opening the page is activity; reported once the socket is up
  let unreported = true; // activity seen since lastReport that the server has not heard of
  let reportTimer = null;
  let warnTimer = null;
  let tickTimer = null;

  const deadline = () => lastReport + idleMs;
  const secondsLeft = () => Math.max(0, Math.ceil((deadline() - Date.now()) / 1000));

  /** Sends the report now; false (kept for later) while the socket is down. */
  function report() {
    clearTimeout(reportTimer);
    reportTimer = null;
    unreported = true;
    if (!socket.activity()) return false;
    unreported = false;
    lastReport = Date.now();
    writeShared(lastReport);
    plan();
    return true;
  }

  function hide() {
    clearInterval(tickTimer);
    tickTimer = null;
    warning.hidden = true;
    announce.textContent = '';
  }

  function show() {
    if (unreported && report()) return; // activity not reported yet: no reason to warn
    countdown.textContent = String(secondsLeft());
    if (warning.hidden) {
      warning.hidden = false;
      announce.textContent = `You will be signed out in ${secondsLeft()} seconds because of inactivity.`;
    }
    clearInterval(tickTimer);
    tickTimer = setInterval(() => {
      countdown.textContent = String(secondsLeft());
    }, 1000);
  }

  /** Schedules the warning for the current deadline (hiding it if it came too early). */
  function plan() {
    clearTimeout(warnTimer);
    if (!Number.isFinite(idleMs)) return;
    const wait = deadline() - warnBefore - Date.now();
    if (wait <= 0) {
      show();
      return;
    }
    hide();
    warnTimer = setTimeout(show, wait);
  }

  function onActivity() {
    if (!warning.hidden) {
      report();
      return;
    }
    unreported = true;
    const wait = lastReport + reportEvery - Date.now();
    if (wait <= 0) report();
    else if (!reportTimer) reportTimer = setTimeout(report, wait);
  }

  for (const type of EVENTS) document.addEventListener(type, onActivity, { capture: true, passive: true });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') onActivity();
  });
  window.addEventListener('focus', onActivity);
  byId('idle-stay').addEventListener('click', report);

  // Another tab reported: the shared session's deadline moved.
  window.addEventListener('storage', (ev) => {
    if (ev.key !== KEY) return;
    const time = readShared();
    if (time > lastReport) {
      lastReport = time;
      plan();
    }
  });

  store.on('connection', ({ status }) => {
    if (status === 'online' && unreported) report();
  });

  lastReport = Math.max(lastReport, readShared());
  plan();
}
