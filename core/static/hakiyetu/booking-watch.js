/**
 * Watch one booking until it is paid, however it is paid (plain ES module).
 *
 * watchBooking({bookingId, expiresAt, onPaid, onEnded}) polls
 * GET /api/bookings/<id>/ every ~2.5 s while the booking awaits payment and
 * the page is visible, so the page notices a payment that did not come
 * through its own STK prompt: a prompt sent from elsewhere (the SPA, another
 * tab), a Paybill payment made by hand, or staff allocating money to it.
 *
 * - paid (confirmed + paid): onPaid(booking), then it stops;
 * - over (expired, cancelled, or the hold ran out while still unpaid):
 *   onEnded({reason, booking}), then it stops; reason is the booking's
 *   status, "hold_ended", "auth" (401/403) or "gone" (404);
 * - hidden page: no polls until wake() (call it on "visibilitychange");
 * - errors (offline, 5xx): it backs off, doubling up to 30 s; a 429 waits
 *   for its Retry-After.
 *
 * It runs beside checkout.js's STK status poll, whose contract it leaves
 * alone. Timers, fetch, the clock and visibility are injectable for tests
 * (e2e/js/booking-watch.test.mjs).
 */

export const BOOKING_PATH = "/api/bookings/";

const DEFAULTS = Object.freeze({
  baseUrl: "",
  headers: () => ({}),
  credentials: "same-origin",
  intervalMs: 2500,
  maxDelayMs: 30000,
  backoff: 2,
  throttledMs: 10000,
  onPaid: () => {},
  onEnded: () => {},
  onUpdate: () => {},
});

/** "paid", "pending" or "ended" for a booking as the bookings API answers it. */
export function bookingState(booking) {
  const confirmed = booking.status === "confirmed" || booking.status === "completed";
  if (confirmed && booking.payment_status === "paid") return "paid";
  if (booking.status === "pending_payment") return "pending";
  return "ended";
}

/**
 * The M-Pesa receipt that paid the booking: the ledger's (any channel),
 * else its completed STK payment's; null when none is known (an STK query
 * confirmed it, or staff allocated money without one).
 */
export function bookingReceipt(booking) {
  if (booking.receipt && booking.receipt.receipt_number) {
    return booking.receipt.receipt_number;
  }
  const latest = booking.latest_payment;
  if (latest && latest.status === "completed" && latest.mpesa_receipt_number) {
    return latest.mpesa_receipt_number;
  }
  return null;
}

/**
 * Start watching; returns {stop(), wake(), isStopped()}. The first poll
 * is one interval away (the caller has just read the booking).
 *
 * @param {object} options bookingId, expiresAt (ISO; the hold's end, kept
 *   up to date from each answer), onPaid(booking), onEnded({reason,
 *   booking}), onUpdate(booking), baseUrl, headers (object or function),
 *   credentials, intervalMs, maxDelayMs, backoff, throttledMs, and for
 *   tests fetch, setTimer(fn, ms), clearTimer(handle), now(), isVisible().
 */
export function watchBooking(options) {
  const config = { ...DEFAULTS, ...options };
  const fetchFn = config.fetch || globalThis.fetch.bind(globalThis);
  const setTimer = config.setTimer || ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = config.clearTimer || ((handle) => clearTimeout(handle));
  const now = config.now || (() => Date.now());
  const isVisible = config.isVisible || pageIsVisible;
  const path = `${config.baseUrl}${BOOKING_PATH}${encodeURIComponent(config.bookingId)}/`;
  let holdEnds = Date.parse(config.expiresAt);
  let errorDelay = config.intervalMs;
  let timer = null;
  let inFlight = false;
  let stopped = false;
  let last = null;

  function schedule(ms) {
    if (timer !== null) clearTimer(timer);
    timer = setTimer(tick, ms);
  }

  async function tick() {
    timer = null;
    if (stopped || inFlight || !isVisible()) return; // hidden: wake() resumes
    inFlight = true;
    let next;
    try {
      next = await pollOnce();
    } finally {
      inFlight = false;
    }
    if (!stopped && next !== null) schedule(next);
  }

  /** One poll; the wait before the next one, or null when it is over. */
  async function pollOnce() {
    const answer = await request();
    if (stopped) return null;
    let wait;
    if (answer.status === 200 && answer.json) {
      last = answer.json;
      if (last.expires_at) holdEnds = Date.parse(last.expires_at);
      config.onUpdate(last);
      const state = bookingState(last);
      if (state === "paid") return finish(config.onPaid, last);
      if (state === "ended") return finish(config.onEnded, { reason: last.status, booking: last });
      errorDelay = config.intervalMs;
      wait = config.intervalMs;
    } else if (answer.status === 401 || answer.status === 403 || answer.status === 404) {
      const reason = answer.status === 404 ? "gone" : "auth";
      return finish(config.onEnded, { reason, booking: last });
    } else if (answer.status === 429) {
      wait = retryAfterMs(answer.headers, config.throttledMs);
    } else {
      // Offline or 5xx: transient; wait longer each time.
      errorDelay = Math.min(config.maxDelayMs, errorDelay * config.backoff);
      wait = errorDelay;
    }
    // No known hold end (an answer without expires_at): poll on.
    const left = Number.isFinite(holdEnds) ? holdEnds - now() : Infinity;
    if (left <= 0) return finish(config.onEnded, { reason: "hold_ended", booking: last });
    // One last look right after the hold ends, not a long backoff later.
    return Math.min(wait, left + 500);
  }

  async function request() {
    const headers = {
      Accept: "application/json",
      ...(typeof config.headers === "function" ? config.headers() : config.headers),
    };
    try {
      const response = await fetchFn(path, { headers, credentials: config.credentials });
      const json = await response.json().catch(() => null);
      return { status: response.status, headers: response.headers, json };
    } catch {
      return { status: 0, headers: null, json: null };
    }
  }

  function finish(callback, value) {
    stop();
    callback(value);
    return null;
  }

  function stop() {
    stopped = true;
    if (timer !== null) clearTimer(timer);
    timer = null;
  }

  /**
   * Poll now if waiting or paused (e.g. the page was shown again);
   * resolves when that poll is done.
   */
  function wake() {
    if (stopped || inFlight) return Promise.resolve();
    if (timer !== null) clearTimer(timer);
    timer = null;
    return tick();
  }

  schedule(config.intervalMs);
  return { stop, wake, isStopped: () => stopped };
}

function pageIsVisible() {
  return !globalThis.document || globalThis.document.visibilityState !== "hidden";
}

function retryAfterMs(headers, fallbackMs) {
  const seconds = Number(headers && headers.get && headers.get("Retry-After"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : fallbackMs;
}
