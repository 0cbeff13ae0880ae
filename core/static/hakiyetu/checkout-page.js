/**
 * The checkout page at "/": pick an advocate, an offer, a date and a free
 * slot, book it, then pay it with checkout.js's processPayment. The phone
 * number is checked before the booking is made; "Start over" cancels the
 * unpaid booking at every step after it. Once booked, the page also shows
 * how to pay by Paybill and watches the booking (booking-watch.js), so it
 * shows it paid however it was paid: this page's prompt, a prompt sent
 * from elsewhere, Paybill by hand, or staff.
 */
import {
  PHONE_MESSAGE,
  csrfToken,
  normalisePhone,
  pollPayment,
  processPayment,
} from "./checkout.js";
import { bookingReceipt, watchBooking } from "./booking-watch.js";

const KES = new Intl.NumberFormat("en-KE", { maximumFractionDigits: 0 });
const WHEN = new Intl.DateTimeFormat("en-KE", {
  timeZone: "Africa/Nairobi",
  weekday: "long",
  day: "numeric",
  month: "long",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});
// Waiting longer than this (a few seconds) before a new push is automatic:
// the customer already asked for it by pressing "Try again".
const MAX_AUTO_WAIT_SECONDS = 30;
const NOT_PAYABLE = {
  cancelled: "This booking was cancelled, so please do not pay for it.",
  ended: "The time to pay for this booking has ended, so please do not pay for it now.",
};
const NOT_PAYABLE_NEXT =
  " If you already paid, keep the M-Pesa SMS: we will contact you. " +
  "Press Start over to choose a time again.";
const START_OVER_WHILE_WAITING =
  "A payment request may still be open on your phone. If you have entered your " +
  "M-Pesa PIN, wait for the answer instead.\n\nCancel this booking and start over?";

const $ = (id) => document.getElementById(id);
const el = {
  root: $("checkout"),
  form: $("checkout-form"),
  bookingFields: $("booking-fields"),
  advocate: $("advocate"),
  offer: $("offer"),
  date: $("date"),
  slotList: $("slot-list"),
  slotMessage: $("slot-message"),
  slotError: $("slot-error"),
  price: $("price"),
  priceNote: $("price-note"),
  phone: $("phone"),
  phoneError: $("phone-error"),
  formError: $("form-error"),
  pay: $("pay-button"),
  status: $("status"),
  waiting: $("waiting"),
  waitingTitle: $("waiting-title"),
  waitingDetail: $("waiting-detail"),
  success: $("result-success"),
  successTitle: $("success-title"),
  failure: $("result-failure"),
  failureTitle: $("failure-title"),
  failureReason: $("failure-reason"),
  failureHint: $("failure-hint"),
  retry: $("retry-button"),
  startOver: $("start-over"),
  paybill: $("paybill"), // absent when no Paybill number is set
  copyAccount: $("copy-account"),
};

const state = {
  advocates: [],
  booking: null,
  slotRequest: 0,
  busy: false,
  last: null,
  watch: null, // the booking's watch, once booked
  paid: false, // the paid outcome is shown: nothing may replace it
  ended: null, // why the booking can no longer be paid, once it cannot
};

if (el.root) init();

function init() {
  state.advocates = JSON.parse($("advocates-data").textContent || "[]");
  if (state.advocates.length === 0) {
    showFormError("No advocates are available right now.");
    el.pay.disabled = true;
    return;
  }
  el.advocate.addEventListener("change", () => {
    fillOffers();
    loadSlots();
  });
  el.offer.addEventListener("change", () => {
    showPrice();
    loadSlots();
  });
  el.date.addEventListener("change", loadSlots);
  el.form.addEventListener("submit", (event) => {
    event.preventDefault();
    pay();
  });
  el.retry.addEventListener("click", () => pay());
  el.startOver.addEventListener("click", startOver);
  el.copyAccount?.addEventListener("click", copyAccount);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") state.watch?.wake();
  });
  announceCancelled();
  fillOffers();
  loadSlots();
  prefillPhone();
}

/** The account's default M-Pesa phone (GET /api/auth/me/), unless typed. */
async function prefillPhone() {
  try {
    const response = await fetch("/api/auth/me/", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    const { phone_number: phone } = await response.json();
    if (phone && !el.phone.value && !el.phone.readOnly) el.phone.value = phone;
  } catch {
    // No pre-filled number: the field stays empty, as before.
  }
}

function currentAdvocate() {
  return state.advocates.find((a) => String(a.id) === el.advocate.value);
}

function currentOffer() {
  const [code, duration] = el.offer.value.split(":");
  const advocate = currentAdvocate();
  return advocate?.consultation_types.find(
    (o) => o.code === code && String(o.duration) === duration,
  );
}

function fillOffers() {
  const advocate = currentAdvocate();
  el.offer.replaceChildren(
    ...[...(advocate?.consultation_types ?? [])].sort(byPrice).map((offer) => {
      const option = document.createElement("option");
      option.value = `${offer.code}:${offer.duration}`;
      // Price first: a closed select on a phone shows only the start.
      option.textContent = `KES ${KES.format(offer.price)} · ${offer.name}, ${offer.duration} min`;
      return option;
    }),
  );
  showPrice();
}

function byPrice(a, b) {
  return a.price - b.price || a.duration - b.duration;
}

function showPrice() {
  const offer = currentOffer();
  el.price.textContent = offer ? `KES ${KES.format(offer.price)}` : "—";
}

async function loadSlots() {
  const offer = currentOffer();
  const request = ++state.slotRequest;
  el.slotList.replaceChildren();
  hide(el.slotError);
  if (!offer || !el.date.value) {
    el.slotMessage.textContent = "Choose an advocate, a type and a date.";
    return;
  }
  el.slotMessage.textContent = "Loading free times…";
  const query = new URLSearchParams({
    date: el.date.value,
    consultation_type: offer.code,
    duration: String(offer.duration),
  });
  let slots;
  try {
    const response = await fetch(`/api/advocates/${currentAdvocate().id}/slots/?${query}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    slots = response.ok ? await response.json() : null;
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new Error(body?.error?.message || "Could not load free times.");
    }
  } catch (error) {
    if (request === state.slotRequest) el.slotMessage.textContent = error.message;
    return;
  }
  if (request !== state.slotRequest) return; // a newer choice won
  el.slotList.replaceChildren(...slots.map(slotRadio));
  el.slotMessage.textContent = slots.length
    ? `${slots.length} free times.`
    : "No free times on this day. Please choose another date.";
}

function slotRadio(slot, index) {
  const label = document.createElement("label");
  label.className = "slot";
  const input = document.createElement("input");
  input.type = "radio";
  input.name = "slot";
  input.value = slot.time;
  input.id = `slot-${index}`;
  input.addEventListener("change", () => hide(el.slotError));
  const text = document.createElement("span");
  text.textContent = slot.time;
  label.append(input, text);
  return label;
}

function selectedSlot() {
  return el.slotList.querySelector('input[name="slot"]:checked')?.value ?? null;
}

async function pay() {
  if (state.busy) return;
  clearErrors();
  if (!validate()) return;
  setBusy(true);
  try {
    if (!state.booking && !(await book())) return;
    await payBooking();
  } finally {
    setBusy(false);
  }
}

function validate() {
  let firstInvalid = null;
  if (!state.booking && !selectedSlot()) {
    showFieldError(el.slotError, null, "Choose a time.");
    firstInvalid = el.slotList.querySelector("input") || el.date;
  }
  if (!el.phone.value.trim()) {
    showFieldError(el.phoneError, el.phone, "Enter the M-Pesa phone number to pay from.");
    firstInvalid = firstInvalid || el.phone;
  } else if (!normalisePhone(el.phone.value)) {
    // The server's rule and message, before any slot is held.
    showFieldError(el.phoneError, el.phone, PHONE_MESSAGE);
    firstInvalid = firstInvalid || el.phone;
  }
  firstInvalid?.focus();
  return firstInvalid === null;
}

async function book() {
  const offer = currentOffer();
  announce("Booking your slot…");
  const answer = await postJson("/api/documents/consultations/book", {
    advocate_id: Number(el.advocate.value),
    date: el.date.value,
    time: selectedSlot(),
    consultation_type: offer.code,
    duration: offer.duration,
  });
  if (answer.status !== 201) {
    const message = answer.json?.error?.message || "We could not book this slot.";
    showFormError(message);
    announce("");
    if (answer.status === 409) loadSlots(); // someone took it: show what is left
    return false;
  }
  state.booking = answer.json;
  el.bookingFields.disabled = true;
  show(el.startOver);
  el.price.textContent = `KES ${KES.format(state.booking.amount)}`;
  el.priceNote.textContent = `Booking #${state.booking.booking_id}: this slot is held for you while you pay.`;
  $("booking-reference").textContent = state.booking.reference;
  show($("booking-reference-line"));
  showPaybill(state.booking);
  watchUntilPaid(state.booking);
  return true;
}

/** How to pay this booking by hand: its reference and exact amount. */
function showPaybill(booking) {
  if (!el.paybill) return;
  $("paybill-account").textContent = booking.reference;
  $("paybill-amount").textContent = `KES ${KES.format(booking.amount)}`;
  $("paybill-amount-typed").textContent = `(type ${booking.amount})`;
  el.copyAccount.hidden = !navigator.clipboard?.writeText;
  show(el.paybill);
}

async function copyAccount() {
  try {
    await navigator.clipboard.writeText(state.booking.reference);
    el.copyAccount.textContent = "Copied";
  } catch {
    el.copyAccount.textContent = "Copy failed";
  }
  setTimeout(() => {
    el.copyAccount.textContent = "Copy";
  }, 2000);
}

/** Poll the booking itself, beside the STK status poll of processPayment. */
function watchUntilPaid(booking) {
  state.watch = watchBooking({
    bookingId: booking.booking_id,
    expiresAt: booking.expires_at,
    onPaid: (paid) => showSuccess({ receipt: bookingReceipt(paid), amount: paid.amount }),
    onEnded: bookingEnded,
  });
}

/** The booking can no longer be paid (expired, cancelled, hold over). */
function bookingEnded({ reason }) {
  if (state.paid || reason === "auth" || reason === "gone") return;
  state.ended = reason === "cancelled" ? "cancelled" : "ended";
  if (el.paybill) hide(el.paybill);
  el.priceNote.textContent =
    `Booking #${state.booking.booking_id}: ` +
    (state.ended === "cancelled" ? "cancelled." : "this slot is no longer held for you.");
  // An open prompt's own answer comes first (a success still wins).
  if (!state.busy) showNotPayable();
}

/** Say the booking is over and offer only "Start over": no pay, no retry. */
function showNotPayable() {
  el.pay.hidden = true;
  hide(el.failure);
  showFormError(NOT_PAYABLE[state.ended] + NOT_PAYABLE_NEXT);
  announce(NOT_PAYABLE[state.ended], { visible: false });
}

async function payBooking() {
  const phone = normalisePhone(el.phone.value);
  showWaiting(phone);
  let result = await (state.last?.kind === "timeout" && state.last.data
    ? // "Check again": keep polling the same payment, never prompt twice.
      pollPayment({
        checkoutRequestId: state.last.data.checkout_request_id,
        paymentId: state.last.data.payment_id,
      })
    : processPayment({ phone_number: phone, booking_id: state.booking.booking_id }));
  if (state.paid) return; // the booking's watch saw it paid first
  if (result.kind === "retry_too_soon" && result.retryAfter <= MAX_AUTO_WAIT_SECONDS) {
    await countdown(result.retryAfter);
    if (state.paid) return;
    showWaiting(phone);
    result = await processPayment({ phone_number: phone, booking_id: state.booking.booking_id });
    if (state.paid) return;
  }
  state.last = result;
  hide(el.waiting);
  if (result.success) {
    showSuccess({ receipt: result.data.mpesa_receipt_number, amount: result.data.amount });
  } else if (state.ended) {
    showNotPayable();
  } else if (result.kind === "invalid" && result.field === "phone_number") {
    showFieldError(el.phoneError, el.phone, result.message);
    announce("");
    el.phone.focus();
  } else {
    showFailure(result);
  }
}

function showWaiting(phone) {
  hide(el.failure);
  show(el.waiting);
  el.waitingDetail.textContent =
    `We sent a request for KES ${KES.format(state.booking.amount)} to ${phone}. ` +
    "This page updates by itself when M-Pesa answers.";
  announce("Check your phone and enter your M-Pesa PIN.", { visible: false });
  el.waitingTitle.focus();
}

async function countdown(seconds) {
  hide(el.waiting);
  for (let left = Math.ceil(seconds); left > 0; left -= 1) {
    announce(`The last attempt failed moments ago. Sending a new request in ${left} s…`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/**
 * The paid outcome, once, whoever saw it first: this page's STK poll or the
 * booking's watch ({receipt: null} when no receipt number is known).
 */
function showSuccess({ receipt, amount }) {
  if (state.paid) return;
  state.paid = true;
  state.watch?.stop();
  const booking = state.booking;
  el.form.hidden = true;
  hide(el.waiting);
  hide(el.failure);
  if (el.paybill) hide(el.paybill);
  hide(el.formError);
  hide(el.startOver); // paid: nothing to start over from
  const receiptEl = $("receipt-number");
  receiptEl.textContent =
    receipt || "Confirmed by M-Pesa. The receipt number is in the M-Pesa SMS on your phone.";
  receiptEl.classList.toggle("receipt-pending", !receipt);
  $("receipt-amount").textContent = `KES ${KES.format(amount)}`;
  $("receipt-advocate").textContent = booking.advocate.name;
  $("receipt-when").textContent = WHEN.format(new Date(booking.start));
  $("receipt-booking").textContent = `#${booking.booking_id}, confirmed`;
  $("receipt-reference").textContent = booking.reference;
  show(el.success);
  announce("Payment received.", { visible: false });
  el.successTitle.focus();
}

function showFailure(result) {
  el.failureReason.textContent = result.message;
  const paybill = el.paybill && !el.paybill.hidden ? " Or pay by Paybill below." : "";
  el.failureHint.textContent = result.retryable
    ? `You can change the phone number above before trying again.${paybill}`
    : "";
  el.retry.hidden = !result.retryable;
  el.retry.textContent = result.kind === "timeout" ? "Check again" : "Try again";
  el.pay.hidden = true;
  show(el.failure);
  announce(`Payment not completed. ${result.message}`, { visible: false });
  el.failureTitle.focus();
}

/**
 * Cancel the unpaid booking and reload a fresh page. A booking that got
 * paid meanwhile is never cancelled (that would ask for a refund): the page
 * says so instead (a poll still running ends on the receipt).
 */
async function startOver() {
  const booking = state.booking;
  if (!booking) return;
  if (state.busy && !window.confirm(START_OVER_WHILE_WAITING)) return;
  el.startOver.disabled = true;
  announce(`Cancelling booking #${booking.booking_id}…`);
  const current = await getJson(`/api/bookings/${booking.booking_id}/`);
  let answer = current;
  if (current.status === 200 && current.json?.payment_status !== "unpaid") {
    el.startOver.disabled = false;
    hide(el.startOver);
    announce("");
    showFormError(`Booking #${booking.booking_id} is already paid: it was not cancelled.`);
    return;
  }
  if (current.status === 200 && current.json?.status === "pending_payment") {
    answer = await postJson(`/api/bookings/${booking.booking_id}/cancel/`, {});
  }
  // 200: cancelled (or already over: expired, cancelled); 404: gone;
  // 409: no longer cancellable. Either way the slot is not held by us.
  if ([200, 404, 409].includes(answer.status)) {
    const next = new URL(window.location.href);
    next.search = new URLSearchParams({ cancelled: String(booking.booking_id) }).toString();
    window.location.assign(next.toString());
    return;
  }
  el.startOver.disabled = false;
  announce("");
  showFormError(
    answer.json?.error?.message ||
      `We could not cancel booking #${booking.booking_id}. Try again; ` +
        "an unpaid booking is also released by itself when its hold ends.",
  );
}

/** After "Start over": say which booking was cancelled, once. */
function announceCancelled() {
  const url = new URL(window.location.href);
  const cancelled = url.searchParams.get("cancelled");
  if (!cancelled) return;
  url.searchParams.delete("cancelled");
  window.history.replaceState(null, "", url.toString());
  if (/^[0-9]+$/.test(cancelled)) {
    announce(`Booking #${cancelled} was cancelled. Choose a time to book again.`);
  }
}

function setBusy(busy) {
  state.busy = busy;
  el.form.setAttribute("aria-busy", String(busy));
  el.pay.disabled = busy;
  el.retry.disabled = busy;
  el.phone.readOnly = busy;
}

async function getJson(path) {
  try {
    const response = await fetch(path, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    return { status: response.status, json: await response.json().catch(() => null) };
  } catch {
    return { status: 0, json: null };
  }
}

async function postJson(path, body) {
  try {
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: await response.json().catch(() => null) };
  } catch {
    return { status: 0, json: { error: { message: "We could not reach Haki Yetu. Check your connection." } } };
  }
}

function clearErrors() {
  hide(el.formError);
  hide(el.slotError);
  hide(el.phoneError);
  el.phone.removeAttribute("aria-invalid");
}

function showFieldError(errorEl, input, message) {
  errorEl.textContent = message;
  show(errorEl);
  input?.setAttribute("aria-invalid", "true");
}

function showFormError(message) {
  el.formError.textContent = message;
  show(el.formError);
}

/**
 * Say it in the live region. States that have their own panel are only
 * spoken (the panel shows them); transient messages are shown too.
 */
function announce(message, { visible = true } = {}) {
  el.status.classList.toggle("visually-hidden", !visible);
  el.status.textContent = message;
}

function show(node) {
  node.hidden = false;
}

function hide(node) {
  node.hidden = true;
}
