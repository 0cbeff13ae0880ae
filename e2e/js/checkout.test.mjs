// Contract tests of checkout.js's payment client with a scripted fetch
// (node --test; run by e2e/test_checkout_js.py). No timers: sleep is a
// fake clock, so the 180 s time limit takes no time.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  MESSAGES,
  createPaymentClient,
  normalisePhone,
} from "../../core/static/hakiyetu/checkout.js";

function fakeServer(routes, options = {}) {
  const calls = [];
  let clock = 0;
  const fetch = async (url, init) => {
    calls.push({ url, method: init.method, headers: init.headers });
    const route = routes.find((r) => url.includes(r.path) && r.method === (init.method || "GET"));
    const advance = (ms) => {
      clock += ms; // the server took this long (a ?wait= that ran out)
    };
    const answer = typeof route.answer === "function" ? route.answer(calls, { url, advance }) : route.answer;
    if (answer instanceof Error) throw answer;
    return {
      status: answer.status,
      headers: new Map(Object.entries(answer.headers || {})),
      json: async () => answer.body,
    };
  };
  const client = createPaymentClient({
    fetch,
    sleep: async (ms) => {
      clock += ms;
    },
    now: () => clock,
    headers: { Authorization: "Token t" },
    ...options,
  });
  return { client, calls, elapsed: () => clock };
}

const pushed = { status: 201, body: { CheckoutRequestID: "ws_CO_1", payment_id: 1, status: "pending" } };
const pending = { status: 200, body: { status: "pending", is_final: false } };
const status = (body) => ({ status: 200, body: { is_final: true, ...body } });

test("completed payment resolves success with the receipt", async () => {
  const { client, calls } = fakeServer([
    { path: "stk-push", method: "POST", answer: pushed },
    {
      path: "/status/ws_CO_1",
      method: "GET",
      answer: (c) => (c.length < 3 ? pending : status({ status: "completed", mpesa_receipt_number: "ABC1234567" })),
    },
  ]);
  const result = await client.processPayment({ phone_number: "254708374149", booking_id: 1 });
  assert.equal(result.success, true);
  assert.equal(result.data.mpesa_receipt_number, "ABC1234567");
  assert.equal(calls[0].headers.Authorization, "Token t");
  assert.ok(calls[0].headers["Idempotency-Key"]);
});

test("each failure kind gets its plain message", async () => {
  for (const kind of ["cancelled", "insufficient_funds", "wrong_pin", "no_answer"]) {
    const { client } = fakeServer([
      { path: "stk-push", method: "POST", answer: pushed },
      { path: "/status/", method: "GET", answer: status({ status: "failed", failure_kind: kind }) },
    ]);
    const result = await client.processPayment({ phone_number: "254711000000", booking_id: 1 });
    assert.deepEqual([result.success, result.kind, result.message], [false, kind, MESSAGES[kind]]);
    assert.equal(result.retryable, true);
  }
});

test("expired, failed with a reason, and needs_review", async () => {
  const cases = [
    [{ status: "expired", failure_kind: "expired" }, "expired", MESSAGES.expired, true],
    [{ status: "failed", failure_kind: "failed", failure_reason: "Routed wrong." }, "failed", "Routed wrong.", true],
    [{ status: "needs_review", failure_kind: null }, "needs_review", MESSAGES.needs_review, false],
  ];
  for (const [body, kind, message, retryable] of cases) {
    const { client } = fakeServer([
      { path: "stk-push", method: "POST", answer: pushed },
      { path: "/status/", method: "GET", answer: status(body) },
    ]);
    const result = await client.processPayment({ phone_number: "254700000001", booking_id: 1 });
    assert.deepEqual([result.kind, result.message, result.retryable], [kind, message, retryable]);
  }
});

test("polls with backoff from 2 s to 5 s and gives up after the time limit", async () => {
  const { client, calls, elapsed } = fakeServer([
    { path: "stk-push", method: "POST", answer: pushed },
    { path: "/status/", method: "GET", answer: pending },
  ]);
  const result = await client.processPayment({ phone_number: "254708374149", booking_id: 1 });
  assert.equal(result.kind, "timeout");
  assert.equal(elapsed(), 180000);
  assert.ok(calls.length > 35 && calls.length < 45, `${calls.length} polls`);
});

test("asks the status to wait, and resolves as soon as it answers final", async () => {
  const { client, calls, elapsed } = fakeServer([
    { path: "stk-push", method: "POST", answer: pushed },
    { path: "/status/ws_CO_1?wait=25", method: "GET", answer: status({ status: "completed", mpesa_receipt_number: "R1" }) },
  ]);
  const result = await client.processPayment({ phone_number: "254708374149", booking_id: 1 });
  assert.equal(result.success, true);
  assert.equal(calls.length, 2);
  assert.ok(calls[1].url.endsWith("/api/payment/mpesa/status/ws_CO_1?wait=25"));
  assert.equal(elapsed(), 0, "no sleep before or after the wait");
});

test("a wait that runs out is asked again, not polled", async () => {
  const waited = (body) => (calls, { advance }) => {
    advance(25000);
    return body;
  };
  let round = 0;
  const { client, calls } = fakeServer([
    { path: "stk-push", method: "POST", answer: pushed },
    {
      path: "/status/ws_CO_1",
      method: "GET",
      answer: (c, context) => {
        round += 1;
        return waited(round < 3 ? pending : status({ status: "failed", failure_kind: "cancelled" }))(c, context);
      },
    },
  ]);
  const result = await client.processPayment({ phone_number: "254711000000", booking_id: 1 });
  assert.equal(result.kind, "cancelled");
  const gets = calls.filter((c) => c.method === "GET").map((c) => c.url);
  assert.equal(gets.length, 3);
  assert.ok(gets.every((url) => url.endsWith("?wait=25")), gets.join(" "));
});

test("a failed wait falls back to polling with backoff", async () => {
  const { client, calls, elapsed } = fakeServer([
    { path: "stk-push", method: "POST", answer: pushed },
    {
      path: "/status/ws_CO_1",
      method: "GET",
      answer: ({ length }, { url }) => {
        if (url.includes("?wait=")) return new TypeError("connection reset");
        return length < 4 ? pending : status({ status: "completed", mpesa_receipt_number: "R2" });
      },
    },
  ]);
  const result = await client.processPayment({ phone_number: "254708374149", booking_id: 1 });
  assert.equal(result.success, true);
  const gets = calls.filter((c) => c.method === "GET").map((c) => c.url);
  assert.equal(gets.filter((url) => url.includes("?wait=")).length, 1, "waited once");
  assert.equal(gets.length, 3, "then polled twice");
  assert.equal(elapsed(), 2000 + 2500, "with the polling backoff");
});

test("a wait refused (404) ends as an error without polling", async () => {
  const { client, calls } = fakeServer([
    { path: "stk-push", method: "POST", answer: pushed },
    { path: "/status/", method: "GET", answer: { status: 404, body: { error: { code: "not_found" } } } },
  ]);
  const result = await client.processPayment({ phone_number: "254708374149", booking_id: 1 });
  assert.equal(result.kind, "error");
  assert.equal(calls.length, 2);
});

test("waitSeconds: 0 polls only", async () => {
  const { client, calls } = fakeServer(
    [
      { path: "stk-push", method: "POST", answer: pushed },
      { path: "/status/", method: "GET", answer: (c) => (c.length < 3 ? pending : status({ status: "completed" })) },
    ],
    { waitSeconds: 0 },
  );
  const result = await client.processPayment({ phone_number: "254708374149", booking_id: 1 });
  assert.equal(result.success, true);
  assert.ok(calls.every((c) => !c.url.includes("?wait=")));
});

test("409 payment_in_progress resumes polling that CheckoutRequestID", async () => {
  const { client, calls } = fakeServer([
    {
      path: "stk-push",
      method: "POST",
      answer: { status: 409, body: { error: { code: "payment_in_progress", checkout_request_id: "ws_CO_9", payment_id: 9 } } },
    },
    { path: "/status/ws_CO_9", method: "GET", answer: status({ status: "completed", mpesa_receipt_number: "R" }) },
  ]);
  const result = await client.processPayment({ phone_number: "254708374149", booking_id: 1 });
  assert.equal(result.success, true);
  assert.equal(calls.filter((c) => c.method === "POST").length, 1);
});

test("a refused push (502) is read from its payment row", async () => {
  const { client } = fakeServer([
    { path: "stk-push", method: "POST", answer: { status: 502, body: { error: { code: "provider_rejected", payment_id: 4 } } } },
    {
      path: "/api/payments/4/",
      method: "GET",
      answer: status({ status: "failed", failure_kind: "failed", failure_reason: "Another M-Pesa prompt is open." }),
    },
  ]);
  const result = await client.processPayment({ phone_number: "254708374149", booking_id: 1 });
  assert.equal(result.message, "Another M-Pesa prompt is open.");
});

test("retry_too_soon, invalid phone and a lost connection", async () => {
  const tooSoon = fakeServer([
    { path: "stk-push", method: "POST", answer: { status: 409, body: { error: { code: "retry_too_soon", retry_after: 3 } } } },
  ]);
  const wait = await tooSoon.client.processPayment({ phone_number: "1", booking_id: 1 });
  assert.deepEqual([wait.kind, wait.retryAfter], ["retry_too_soon", 3]);

  const invalid = fakeServer([
    {
      path: "stk-push",
      method: "POST",
      answer: { status: 400, body: { error: { code: "invalid", message: "Bad number.", field: "phone_number" } } },
    },
  ]);
  const bad = await invalid.client.processPayment({ phone_number: "1", booking_id: 1 });
  assert.deepEqual([bad.kind, bad.field, bad.message], ["invalid", "phone_number", "Bad number."]);

  const offline = fakeServer([{ path: "stk-push", method: "POST", answer: new TypeError("offline") }]);
  const lost = await offline.client.processPayment({ phone_number: "1", booking_id: 1 });
  assert.equal(lost.kind, "network");
  const keys = offline.calls.map((c) => c.headers["Idempotency-Key"]);
  assert.equal(keys.length, 2, "re-sent once");
  assert.equal(keys[0], keys[1], "with the same Idempotency-Key");
});

// The same table as payments/tests/test_phone.py: the page refuses
// before booking exactly what the server would refuse at the push.
test("normalisePhone accepts what the server accepts", () => {
  const accepted = [
    ["0712345678", "254712345678"],
    ["0112345678", "254112345678"],
    ["712345678", "254712345678"],
    ["112345678", "254112345678"],
    ["+254712345678", "254712345678"],
    ["254712345678", "254712345678"],
    ["+254 712 345 678", "254712345678"],
    ["0712-345-678", "254712345678"],
    [" 0708 374 149 ", "254708374149"],
    ["254-110-345-678", "254110345678"],
    [254708374149, "254708374149"],
  ];
  for (const [value, expected] of accepted) assert.equal(normalisePhone(value), expected, value);
});

test("normalisePhone refuses what the server refuses", () => {
  const refused = [
    "0202345678",
    "0412345678",
    "071234567",
    "07123456789",
    "25471234567",
    "2547123456789",
    "+255712345678",
    "+1712345678",
    "0712abc678",
    "07l2345678",
    "+0712345678",
    "2540712345678",
    "00254712345678",
    "\u0660\u0667\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",
    "",
    "   ",
    "0712.345.678",
    -712345678,
    null,
    undefined,
    true,
    ["0712345678"],
  ];
  for (const value of refused) assert.equal(normalisePhone(value), null, String(value));
});
