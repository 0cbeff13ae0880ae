/**
 * "Create an account" and "Forgot password" beside the checkout page's
 * sign-in form. One form shows at a time, chosen by the address's hash:
 * #signup, #forgot, #reset?uid=..&token=.. (the e-mailed link), anything
 * else the sign-in form. They call the account API (/api/auth/...); a new
 * account then signs in through the page's own sign-in form, so the page
 * keeps its session.
 */
const $ = (id) => document.getElementById(id);
const REGISTER_PATH = "/api/auth/register/";
const RESET_PATH = "/api/auth/password-reset/";
const RESET_CONFIRM_PATH = "/api/auth/password-reset/confirm/";
const UNREACHABLE = "We could not reach Haki Yetu. Check your connection and try again.";
const FORMS = {
  signin: $("signin-form"),
  signup: $("signup-form"),
  forgot: $("forgot-form"),
  reset: $("reset-form"),
};
const links = $("account-links");
let resetLink = null; // {uid, token} from the e-mailed link

if (FORMS.signin && FORMS.signup) init();

function init() {
  window.addEventListener("hashchange", () => route(true));
  FORMS.signup.addEventListener("submit", onSubmit(signUp));
  FORMS.forgot.addEventListener("submit", onSubmit(askReset));
  FORMS.reset.addEventListener("submit", onSubmit(setPassword));
  route(false);
}

function route(moveFocus) {
  const hash = window.location.hash.slice(1);
  let view = "signin";
  if (hash === "signup" || hash === "forgot") view = hash;
  if (hash.startsWith("reset?")) {
    const query = new URLSearchParams(hash.slice("reset?".length));
    resetLink = { uid: query.get("uid") || "", token: query.get("token") || "" };
    view = "reset";
  }
  show(view, moveFocus);
}

function show(view, moveFocus = true) {
  for (const [name, form] of Object.entries(FORMS)) form.hidden = name !== view;
  links.hidden = view !== "signin";
  if (moveFocus) FORMS[view].querySelector("h1")?.focus();
}

function onSubmit(action) {
  return async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const button = form.querySelector("button[type=submit]");
    if (button.disabled) return;
    clearErrors(form);
    button.disabled = true;
    try {
      await action(form);
    } catch {
      showAlert(form, UNREACHABLE);
    } finally {
      button.disabled = false;
    }
  };
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
  return { status: response.status, data };
}

async function signUp(form) {
  const body = values(form);
  if (!body.username) delete body.username;
  const { status, data } = await post(REGISTER_PATH, body);
  if (status !== 201) return showErrors(form, data);
  // Sign in with the new account through the page's session form.
  FORMS.signin.elements.username.value = data.user.username;
  FORMS.signin.elements.password.value = body.password;
  FORMS.signin.submit();
  return undefined;
}

async function askReset(form) {
  const { status, data } = await post(RESET_PATH, values(form));
  if (status !== 202) return showErrors(form, data);
  const done = $("forgot-done");
  done.textContent = `${data.detail} Check your inbox (and spam folder).`;
  done.hidden = false;
  return undefined;
}

async function setPassword(form) {
  const body = { ...resetLink, ...values(form) };
  const { status, data } = await post(RESET_CONFIRM_PATH, body);
  if (status !== 204) return showErrors(form, data);
  form.reset();
  history.replaceState(null, "", window.location.pathname + window.location.search);
  const notice = $("signin-notice");
  notice.textContent = "Your password is set. Sign in with it now.";
  notice.hidden = false;
  show("signin");
  return undefined;
}

function values(form) {
  const body = {};
  for (const input of form.querySelectorAll("input[name]")) {
    body[input.name] = input.type === "password" ? input.value : input.value.trim();
  }
  return body;
}

/** The API's error shape: {"error": {"code", "message", "fields"?}}. */
function showErrors(form, data) {
  const error = data.error || {};
  const fields = error.fields || {};
  let first = null;
  let unplaced = [];
  for (const [name, messages] of Object.entries(fields)) {
    const input = form.elements[name];
    const slot = input && $(`${input.id}-error`);
    if (!slot) {
      unplaced = unplaced.concat(messages);
      continue;
    }
    slot.textContent = messages.join(" ");
    slot.hidden = false;
    input.setAttribute("aria-invalid", "true");
    first = first || input;
  }
  if (unplaced.length || !first) showAlert(form, unplaced.join(" ") || error.message || UNREACHABLE);
  (first || form.querySelector("h1"))?.focus();
}

function showAlert(form, message) {
  const alert = form.querySelector(".alert-error");
  alert.textContent = message;
  alert.hidden = false;
}

function clearErrors(form) {
  for (const slot of form.querySelectorAll(".field-error, .alert")) slot.hidden = true;
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}
