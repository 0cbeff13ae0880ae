/**
 * Reference M-Pesa payment client of Haki Yetu (plain ES module, no build).
 *
 * processPayment({phone_number, booking_id}) sends an STK Push, then asks
 * the status endpoint to answer as soon as the payment is final (?wait=25,
 * again and again), falling back to polling with backoff if a wait fails or
 * times out, until the payment is final or a time limit passes, and
 * resolves (never rejects) with
 *
 *   {success, data, message, kind, retryable, retryAfter}
 *
 * success: true  -> data is the payment (data.mpesa_receipt_number is the
 *                   receipt; null when M-Pesa's status query, not its
 *                   callback, confirmed the payment)
 * success: false -> kind says why (see MESSAGES), message is plain language
 *
 * The shape is the one the seed guide's BookingCheckout.jsx expects. The
 * SPA builds its own client with createPaymentClient({baseUrl, headers}),
 * e.g. headers: () => ({Authorization: `Token ${token}`}). docs/checkout.md
 * documents the contract.
 */

export const STK_PUSH_PATH = "/api/payment/mpesa/stk-push";
export const STATUS_PATH = "/api/payment/mpesa/status/";
export const PAYMENT_PATH = "/api/payments/";

/** Plain-language messages by outcome kind (failure_kind and client kinds). */
export const MESSAGES = Object.freeze({
  completed: "Payment received. Your consultation is booked.",
  cancelled: "You cancelled the payment on your phone. Nothing was charged.",
  insufficient_funds:
    "Your M-Pesa balance was not enough for this payment. Top up, then try again.",
  wrong_pin: "The M-Pesa PIN entered was wrong. Try again and enter your PIN carefully.",
  no_answer:
    "We could not reach your phone, or the prompt was not answered. " +
    "Make sure your phone is on and unlocked, then try again.",
  expired: "The payment request expired before it was completed. Please try again.",
  failed: "The payment was not completed. Nothing was charged. Please try again.",
  needs_review:
    "We received a payment we need to check; support will contact you. " +
    "Please do not pay again.",
  timeout:
    "We have not heard back from M-Pesa yet. If you entered your PIN, do not " +
    "pay again: check again in a minute.",
  retry_too_soon: "The last attempt failed moments ago. Please wait a few seconds.",
  throttled: "Too many payment attempts. Please wait a minute and try again.",
  network: "We could not reach Haki Yetu. Check your connection and try again.",
  auth: "Your session has ended. Please sign in again.",
  error: "Something went wrong. Please try again.",
});

// Kinds after which pressing "Try again" makes sense (a new push, or for
// "timeout" a resumed poll: the server answers 409 payment_in_progress).
const RETRYABLE = new Set([
  "cancelled",
  "insufficient_funds",
  "wrong_pin",
  "no_answer",
  "expired",
  "failed",
  "timeout",
  "retry_too_soon",
  "throttled",
  "network",
  "error",
  "invalid",
]);

const DEFAULTS = Object.freeze({
  baseUrl: "",
  headers: () => ({}),
  credentials: "same-origin",
  firstDelayMs: 2000,
  maxDelayMs: 5000,
  backoff: 1.25,
  timeLimitMs: 180000,
  waitSeconds: 25,
  onStatus: () => {},
});

// A wait answered in less than this share of its seconds, still open: the
// server (or a proxy) does not wait, so poll with backoff instead.
const WAIT_HONOURED_SHARE = 0.5;
// How long past its seconds a wait may take before it is given up.
const WAIT_GRACE_MS = 10000;

/**
 * A client bound to a base URL and auth headers.
 *
 * @param {object} options baseUrl, headers (object or function returning
 *   one), credentials, fetch, sleep(ms), now(), firstDelayMs, maxDelayMs,
 *   backoff, timeLimitMs, waitSeconds (0: poll only), onStatus(payment)
 *   called after every status answer.
 * @returns {{processPayment: Function, pollPayment: Function}}
 */
export function createPaymentClient(options = {}) {
  const config = { ...DEFAULTS, ...options };
  const fetchFn = config.fetch || globalThis.fetch.bind(globalThis);
  const sleep = config.sleep || ((ms) => new Promise((r) => setTimeout(r, ms)));
  const now = config.now || (() => Date.now());

  async function request(method, path, body, extraHeaders = {}, signal = undefined) {
    const headers = {
      Accept: "application/json",
      ...(typeof config.headers === "function" ? config.headers() : config.headers),
      ...extraHeaders,
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetchFn(config.baseUrl + path, {
      method,
      headers,
      credentials: config.credentials,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    let json = null;
    try {
      json = await response.json();
    } catch {
      json = null; // an HTML error page from a proxy, say
    }
    return { status: response.status, headers: response.headers, json };
  }

  async function push(payload) {
    // One key per attempt: a re-sent POST after a network error is
    // answered from the server's record instead of prompting twice.
    const key = newIdempotencyKey();
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await request("POST", STK_PUSH_PATH, payload, { "Idempotency-Key": key });
      } catch (error) {
        if (attempt >= 1) throw error;
        await sleep(1000);
      }
    }
  }

  /**
   * One GET ?wait=seconds: the answer, or null when it failed or took too
   * long (then the caller polls instead).
   */
  async function waitRequest(path, seconds) {
    const abort = typeof AbortController === "function" ? new AbortController() : null;
    const timer = abort ? setTimeout(() => abort.abort(), seconds * 1000 + WAIT_GRACE_MS) : null;
    try {
      return await request("GET", `${path}?wait=${seconds}`, undefined, {}, abort ? abort.signal : undefined);
    } catch {
      return null; // offline, aborted, or a proxy that cut the connection
    } finally {
      if (timer !== null) clearTimeout(timer);
    }
  }

  /**
   * Wait for the payment to be final, ?wait= after ?wait=, while the
   * server honours it; resolves {done, result, last}. Not done: poll.
   */
  async function waitForFinal(path, startedAt, last) {
    for (;;) {
      const seconds = Math.min(
        config.waitSeconds,
        Math.floor((config.timeLimitMs - (now() - startedAt)) / 1000),
      );
      if (seconds < 1) return { done: false, last };
      const began = now();
      const answer = await waitRequest(path, seconds);
      if (answer && answer.status === 200 && answer.json) {
        last = answer.json;
        config.onStatus(last);
        if (last.is_final) return { done: true, result: finalResult(last), last };
        if (now() - began >= seconds * 1000 * WAIT_HONOURED_SHARE) continue;
      } else if (answer && [401, 403, 404].includes(answer.status)) {
        const kind = answer.status === 404 ? "error" : "auth";
        return { done: true, result: errorResult(kind, answer.json, last), last };
      }
      return { done: false, last }; // failed, timed out, or not waited: poll
    }
  }

  /**
   * Wait for (or poll) a payment until it is final or the time limit passes.
   * @param {{checkoutRequestId?: string, paymentId?: number}} target
   */
  async function pollPayment(target, { startedAt = now() } = {}) {
    const path = target.checkoutRequestId
      ? STATUS_PATH + encodeURIComponent(target.checkoutRequestId)
      : `${PAYMENT_PATH}${encodeURIComponent(target.paymentId)}/`;
    let delay = config.firstDelayMs;
    let last = null;
    if (target.checkoutRequestId && config.waitSeconds > 0) {
      const waited = await waitForFinal(path, startedAt, last);
      if (waited.done) return waited.result;
      last = waited.last;
    }
    while (now() - startedAt < config.timeLimitMs) {
      await sleep(Math.min(delay, Math.max(0, config.timeLimitMs - (now() - startedAt))));
      delay = Math.min(config.maxDelayMs, delay * config.backoff);
      let answer;
      try {
        answer = await request("GET", path);
      } catch {
        continue; // offline for a moment: keep polling until the limit
      }
      if (answer.status === 200 && answer.json) {
        last = answer.json;
        config.onStatus(last);
        if (last.is_final) return finalResult(last);
      } else if (answer.status === 429) {
        await sleep(retryAfterMs(answer.headers, 5000));
      } else if ([401, 403, 404].includes(answer.status)) {
        return errorResult(answer.status === 404 ? "error" : "auth", answer.json, last);
      }
      // 5xx: transient, keep polling.
    }
    return failure("timeout", last);
  }

  /**
   * Push, then poll; resolves {success, data, message, kind, retryable}.
   * Optional fields the seed guide's SPA sends (amount, account_reference,
   * transaction_desc) are passed on; the server checks amount against the
   * booking's price.
   */
  async function processPayment({ phone_number, booking_id, ...extra }) {
    const startedAt = now();
    let answer;
    try {
      answer = await push({ phone_number, booking_id, ...extra });
    } catch {
      return failure("network", null);
    }
    const error = (answer.json && answer.json.error) || {};
    if (answer.status >= 200 && answer.status < 300 && answer.json) {
      return pollPayment({ checkoutRequestId: answer.json.CheckoutRequestID }, { startedAt });
    }
    if (error.code === "payment_in_progress" && (error.checkout_request_id || error.payment_id)) {
      // Someone (another tab, an earlier click) already prompted the phone.
      return pollPayment(
        { checkoutRequestId: error.checkout_request_id, paymentId: error.payment_id },
        { startedAt },
      );
    }
    if ((answer.status === 502 || answer.status === 503) && error.payment_id) {
      // The payment row says what happened: refused (failed, with a plain
      // reason), unreachable (failed), or unknown (settled by reconciliation).
      return pollPayment({ paymentId: error.payment_id }, { startedAt });
    }
    return pushErrorResult(answer, error);
  }

  return { processPayment, pollPayment };
}

function finalResult(payment) {
  if (payment.status === "completed") {
    return { success: true, data: payment, message: MESSAGES.completed, kind: "completed", retryable: false };
  }
  if (payment.status === "needs_review") return failure("needs_review", payment);
  const kind = payment.status === "expired" ? "expired" : payment.failure_kind || "failed";
  const message =
    kind === "failed" && payment.failure_reason ? payment.failure_reason : MESSAGES[kind];
  return { ...failure(kind, payment), message: message || MESSAGES.failed };
}

function pushErrorResult(answer, error) {
  if (error.code === "retry_too_soon") {
    const retryAfter = Number(error.retry_after) || 5;
    return { ...failure("retry_too_soon", null, error), retryAfter };
  }
  if (answer.status === 429) {
    return { ...failure("throttled", null, error), retryAfter: retryAfterMs(answer.headers, 60000) / 1000 };
  }
  if (answer.status === 401 || answer.status === 403) return errorResult("auth", answer.json, null);
  if (answer.status === 400 && error.code) {
    const field = error.field || Object.keys(error.fields || {})[0] || null;
    return { ...failure("invalid", null, error), message: error.message || MESSAGES.error, field };
  }
  return { ...failure("error", null, error), message: error.message || MESSAGES.error };
}

function errorResult(kind, json, last) {
  const error = (json && json.error) || {};
  return { ...failure(kind, last, error), message: MESSAGES[kind] };
}

function failure(kind, data, error = null) {
  return {
    success: false,
    data,
    error,
    kind,
    message: MESSAGES[kind] || MESSAGES.error,
    retryable: RETRYABLE.has(kind),
  };
}

function retryAfterMs(headers, fallbackMs) {
  const seconds = Number(headers && headers.get && headers.get("Retry-After"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : fallbackMs;
}

function newIdempotencyKey() {
  if (globalThis.crypto && typeof globalThis.crypto.randomUUID === "function") {
    return globalThis.crypto.randomUUID();
  }
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

// The server's rule (payments/phone.py, normalise_phone): nine
// national digits starting 7 or 1, after nothing, 0, 254 or +254; spaces and
// dashes allowed. Checked before booking, so a mistyped number holds no slot.
const PHONE = /^(?:\+?254|0)?([17][0-9]{8})$/;
const PHONE_SEPARATORS = /[\s-]+/g;

/** The server's message for a number it refuses. */
export const PHONE_MESSAGE = "Enter a Kenyan mobile number, e.g. 0712 345 678.";

/**
 * "0708 374 149", "+254708374149", "254108374149"... -> "2547…"/"2541…"
 * (Daraja's MSISDN), or null for anything the server would refuse.
 */
export function normalisePhone(value) {
  const wholeNumber = typeof value === "number" && Number.isInteger(value) && value >= 0;
  if (typeof value !== "string" && !wholeNumber) return null;
  const match = PHONE.exec(String(value).replace(PHONE_SEPARATORS, ""));
  return match ? `254${match[1]}` : null;
}

/** The CSRF token of a Django page: the meta tag, else the csrftoken cookie. */
export function csrfToken(doc = globalThis.document) {
  if (!doc) return "";
  const meta = doc.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) return meta.content;
  const match = doc.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** Same-origin client with session auth and the X-CSRFToken header. */
const pageClient = createPaymentClient({ headers: () => ({ "X-CSRFToken": csrfToken() }) });

/** processPayment({phone_number, booking_id}) for a page of this site. */
export function processPayment(payment, options) {
  if (options) {
    const client = createPaymentClient({ headers: () => ({ "X-CSRFToken": csrfToken() }), ...options });
    return client.processPayment(payment);
  }
  return pageClient.processPayment(payment);
}

/**
 * Poll a payment already pushed ({checkoutRequestId} or {paymentId}), e.g.
 * "Check again" after a time-out, without sending a new prompt.
 */
export function pollPayment(target, options) {
  const client = options
    ? createPaymentClient({ headers: () => ({ "X-CSRFToken": csrfToken() }), ...options })
    : pageClient;
  return client.pollPayment(target);
}

export default { processPayment, pollPayment, createPaymentClient, normalisePhone };
