// booking-watch.js's poller with a scripted fetch, a fake clock and fake
// timers (node --test; run by e2e/test_checkout_js.py). No real waiting.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  bookingReceipt,
  bookingState,
  watchBooking,
} from "../../core/static/hakiyetu/booking-watch.js";

const HOLD_MS = 10 * 60 * 1000;

function booking(fields = {}) {
  return {
    id: 7,
    reference: "HYABC234",
    amount: 3000,
    status: "pending_payment",
    payment_status: "unpaid",
    expires_at: new Date(HOLD_MS).toISOString(),
    latest_payment: null,
    receipt: null,
    ...fields,
  };
}

/**
 * A fake page: `answers(call)` scripts each GET (a value, an Error to
 * throw, or {http, body, headers}); `run()` fires timers in time order
 * until the watch stops or `until` ms pass.
 */
function fakePage(answers, options = {}) {
  const calls = [];
  const events = [];
  const timers = new Map();
  let clock = 0;
  let nextId = 1;
  let visible = true;
  const fetch = async (url, init) => {
    calls.push({ url, at: clock, headers: init.headers });
    const answer = answers(calls.length, clock);
    if (answer instanceof Error) throw answer;
    const { http = 200, body = answer, headers = {} } = "http" in answer ? answer : {};
    return {
      status: http,
      headers: new Map(Object.entries(headers)),
      json: async () => body,
    };
  };
  const watch = watchBooking({
    bookingId: 7,
    expiresAt: new Date(HOLD_MS).toISOString(),
    fetch,
    now: () => clock,
    isVisible: () => visible,
    setTimer: (fn, ms) => {
      const id = nextId++;
      timers.set(id, { fn, at: clock + ms });
      return id;
    },
    clearTimer: (id) => timers.delete(id),
    onPaid: (b) => events.push(["paid", b]),
    onEnded: (e) => events.push(["ended", e]),
    ...options,
  });
  async function run(until = 60 * 60 * 1000) {
    const end = clock + until;
    while (timers.size && !watch.isStopped()) {
      const [id, timer] = [...timers].sort((a, b) => a[1].at - b[1].at)[0];
      if (timer.at > end) break;
      timers.delete(id);
      clock = timer.at;
      await timer.fn();
    }
  }
  return {
    watch,
    calls,
    events,
    run,
    gaps: () => calls.slice(1).map((c, i) => c.at - calls[i].at),
    hide: () => {
      visible = false;
    },
    show: () => {
      visible = true;
    },
    advance: (ms) => {
      clock += ms;
    },
    pendingTimers: () => timers.size,
  };
}

test("bookingState: confirmed and paid is paid; pending_payment waits; the rest is over", () => {
  assert.equal(bookingState(booking({ status: "confirmed", payment_status: "paid" })), "paid");
  assert.equal(bookingState(booking({ status: "completed", payment_status: "paid" })), "paid");
  assert.equal(bookingState(booking()), "pending");
  for (const status of ["expired", "cancelled", "no_show"]) {
    assert.equal(bookingState(booking({ status })), "ended", status);
  }
  // Cancelled after paying: refund_due is not "paid" for the page.
  assert.equal(bookingState(booking({ status: "cancelled", payment_status: "refund_due" })), "ended");
});

test("bookingReceipt: the ledger's receipt first, then a completed payment's, else null", () => {
  const paybill = booking({ receipt: { receipt_number: "TL2PAYBIL9", channel: "paybill" } });
  assert.equal(bookingReceipt(paybill), "TL2PAYBIL9");
  const stk = booking({ latest_payment: { status: "completed", mpesa_receipt_number: "TL3STK0001" } });
  assert.equal(bookingReceipt(stk), "TL3STK0001");
  const failed = booking({ latest_payment: { status: "failed", mpesa_receipt_number: null } });
  assert.equal(bookingReceipt(failed), null);
  const queried = booking({ latest_payment: { status: "completed", mpesa_receipt_number: null } });
  assert.equal(bookingReceipt(queried), null);
});

test("polls every 2.5 s while pending and reports the booking paid, then stops", async () => {
  const paid = booking({
    status: "confirmed",
    payment_status: "paid",
    receipt: { receipt_number: "TL2PAYBIL9", channel: "paybill" },
  });
  const page = fakePage((n) => (n < 4 ? booking() : paid));
  await page.run();
  assert.equal(page.calls.length, 4);
  assert.equal(page.calls[0].url, "/api/bookings/7/");
  assert.equal(page.calls[0].at, 2500);
  assert.deepEqual(page.gaps(), [2500, 2500, 2500]);
  assert.deepEqual(page.events, [["paid", paid]]);
  assert.equal(page.watch.isStopped(), true);
  assert.equal(page.pendingTimers(), 0);
});

test("an expired or cancelled booking ends the watch with its status", async () => {
  for (const status of ["expired", "cancelled"]) {
    const page = fakePage(() => booking({ status }));
    await page.run();
    assert.equal(page.calls.length, 1);
    assert.equal(page.events[0][0], "ended");
    assert.equal(page.events[0][1].reason, status);
  }
});

test("stops when the hold runs out, with one last look right after it ends", async () => {
  const page = fakePage(() => booking());
  await page.run();
  const last = page.calls.at(-1);
  assert.ok(last.at >= HOLD_MS && last.at <= HOLD_MS + 500, `last poll at ${last.at}`);
  assert.equal(page.events.length, 1);
  assert.equal(page.events[0][1].reason, "hold_ended");
  assert.equal(page.watch.isStopped(), true);
});

test("a hold extended by a new prompt is followed from the answers", async () => {
  const later = new Date(HOLD_MS + 5 * 60 * 1000).toISOString();
  const page = fakePage(() => booking({ expires_at: later }));
  await page.run();
  assert.ok(page.calls.at(-1).at >= HOLD_MS + 5 * 60 * 1000);
  assert.equal(page.events[0][1].reason, "hold_ended");
});

test("backs off on errors (offline, 5xx) up to 30 s, and back to 2.5 s after an answer", async () => {
  const page = fakePage((n) => {
    if (n <= 3) return new TypeError("offline");
    if (n <= 6) return { http: 503, body: null };
    if (n === 7) return booking();
    return booking({ status: "confirmed", payment_status: "paid" });
  });
  await page.run();
  assert.deepEqual(page.gaps(), [5000, 10000, 20000, 30000, 30000, 30000, 2500]);
  assert.equal(page.events[0][0], "paid");
});

test("a 429 waits for its Retry-After", async () => {
  const page = fakePage((n) =>
    n === 1 ? { http: 429, body: null, headers: { "Retry-After": "12" } } : booking({ status: "expired" }),
  );
  await page.run();
  assert.deepEqual(page.gaps(), [12000]);
});

test("401, 403 and 404 stop the watch quietly", async () => {
  for (const [status, reason] of [
    [401, "auth"],
    [403, "auth"],
    [404, "gone"],
  ]) {
    const page = fakePage(() => ({ http: status, body: { error: { code: "x" } } }));
    await page.run();
    assert.equal(page.calls.length, 1);
    assert.deepEqual(page.events, [["ended", { reason, booking: null }]]);
  }
});

test("no polls while the page is hidden; wake() polls at once when shown", async () => {
  let paid = false;
  const page = fakePage(() => (paid ? booking({ status: "confirmed", payment_status: "paid" }) : booking()));
  await page.run(5000); // two polls
  assert.equal(page.calls.length, 2);
  page.hide();
  await page.run(60000);
  assert.equal(page.calls.length, 2, "hidden: nothing polled");
  assert.equal(page.pendingTimers(), 0, "paused, not spinning");
  paid = true; // paid by Paybill while the phone showed M-PESA
  page.show();
  await page.watch.wake();
  assert.equal(page.calls.length, 3);
  assert.equal(page.events[0][0], "paid");
});

test("stop() ends it: no more polls, no callback", async () => {
  const page = fakePage(() => booking());
  await page.run(5000);
  page.watch.stop();
  page.watch.wake();
  await page.run();
  assert.equal(page.calls.length, 2);
  assert.deepEqual(page.events, []);
});

test("stop() during a poll drops its answer", async () => {
  let page;
  page = fakePage(() => {
    page.watch.stop(); // e.g. the STK flow showed the receipt meanwhile
    return booking({ status: "confirmed", payment_status: "paid" });
  });
  await page.run();
  assert.equal(page.calls.length, 1);
  assert.deepEqual(page.events, []);
});

test("sends the caller's headers (the SPA's token) to its base URL", async () => {
  const page = fakePage(() => booking({ status: "expired" }), {
    baseUrl: "https://api.example.org",
    headers: () => ({ Authorization: "Token t" }),
  });
  await page.run();
  assert.equal(page.calls[0].url, "https://api.example.org/api/bookings/7/");
  assert.equal(page.calls[0].headers.Authorization, "Token t");
  assert.equal(page.calls[0].headers.Accept, "application/json");
});
