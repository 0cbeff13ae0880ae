"""Settings for Haki Yetu, read from the environment (and ``.env`` if present).

Every variable a deployer may set is listed, with a comment, in
``.env.example``. The embedded defaults need nothing outside the project:
SQLite and a file cache under ``var/``, and a file-system Celery broker.
Secrets have no default; ``make run`` and ``make test`` write a local ``.env``
with generated values on first use.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from core.logging_config import logging_config
from statements.schedule import pull_beat_entries

BASE_DIR = Path(__file__).resolve().parent.parent


class _Env(environ.Env):
    """An empty value (``NAME=`` as copied from .env.example) means unset:
    the documented default, or a clear error when there is none."""

    def get_value(
        self, var, cast=None, default=environ.Env.NOTSET, parse_default=False
    ):
        if self.ENVIRON.get(f"{self.prefix}{var}") == "":
            if default is environ.Env.NOTSET:
                raise ImproperlyConfigured(f"Set the {var} environment variable")
            return default
        return super().get_value(var, cast, default, parse_default)


env = _Env()
if (BASE_DIR / ".env").is_file():
    # OS environment wins over the file (read_env only sets missing keys).
    environ.Env.read_env(BASE_DIR / ".env")

# Local state of the embedded defaults (SQLite, file cache, file broker).
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- Core --------------------------------------------------------------------

SECRET_KEY = env.str("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / ReDoc files, served offline
    "django_celery_results",
    "core",
    "accounts",
    "bookings",
    "payments",
    "observability",
    "statements",
    "notices",
    "closing",
]

MIDDLEWARE = [
    # First: every log line of the request, and its response, carry its id.
    "core.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Outside the middlewares that read the database: JSON 503 under /api/.
    "core.api_errors.ApiDatabaseDownMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.api_errors.ApiNotFoundMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.login_guard.LoginLockoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hakiyetu.urls"
# The DEBUG error page and error e-mails blank the M-Pesa secrets, which
# the callback's own path carries.
DEFAULT_EXCEPTION_REPORTER = "core.error_reports.SecretSafeExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = (
    "core.error_reports.SecretSafeExceptionReporterFilter"
)
WSGI_APPLICATION = "hakiyetu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------


def _url(name: str, default: str) -> str:
    """A URL setting; empty (as copied from .env.example) means the default."""
    return env.str(name, default="") or default


DATABASES = {
    "default": environ.Env.db_url_config(
        _url("DATABASE_URL", f"sqlite:///{VAR_DIR / 'hakiyetu.sqlite3'}")
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server and Celery worker share one file: wait for the write lock
    # instead of failing, and take it at BEGIN so read-then-write
    # transactions cannot deadlock (SQLite has no SELECT ... FOR UPDATE).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache -------------------------------------------------------------------

# A file cache is shared by every local process (web, worker, beat), which
# the Daraja token and the throttles need; use redis:// in production.
CACHES = {
    "default": environ.Env.cache_url_config(
        _url("CACHE_URL", f"filecache://{VAR_DIR / 'cache'}")
    )
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The same cache, without a new client per operation (core/cache.py).
    CACHES["default"]["BACKEND"] = "core.cache.RedisCache"

# --- Auth, i18n, static ------------------------------------------------------

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATORS}.MinimumLengthValidator"},
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"
# Seconds a token's user is cached for API authentication (0 turns it off);
# deleting the token or saving the user forgets it at once.
AUTH_TOKEN_CACHE_SECONDS = env.int("AUTH_TOKEN_CACHE_SECONDS", default=60)
# Failed sign-ins per IP and username before a lockout, and its length.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)
# Where a password-reset e-mail's link points (``#reset?uid=..&token=..`` is
# appended); empty: the checkout page on the host the request came to.
PASSWORD_RESET_URL = env.str("PASSWORD_RESET_URL", default="")

# --- Notices (e-mail and SMS; docs/notices.md) -------------------------------
# django-environ's form: consolemail:// (default), filemail:///dir,
# smtp+tls://user:pass@host:587 in production.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
# django-environ drops the leading "/" of filemail:///abs/dir.
_email_url = env.str("EMAIL_URL", default="")
EMAIL_FILE_PATH = (
    "/" + _email["EMAIL_FILE_PATH"].lstrip("/")
    if _email_url.startswith("filemail:///")
    else _email["EMAIL_FILE_PATH"] or str(VAR_DIR / "mail")
)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Haki Yetu <no-reply@hakiyetu.local>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# console (default), file (one file per SMS in SMS_FILE_DIR), africastalking.
SMS_BACKEND = env.str("SMS_BACKEND", default="console")
SMS_FILE_DIR = env.str("SMS_FILE_DIR", default=str(VAR_DIR / "sms"))
AFRICASTALKING_USERNAME = env.str("AFRICASTALKING_USERNAME", default="")
AFRICASTALKING_API_KEY = env.str("AFRICASTALKING_API_KEY", default="")
AFRICASTALKING_SENDER_ID = env.str("AFRICASTALKING_SENDER_ID", default="")
NOTICE_SEND_MAX_RETRIES = env.int("NOTICE_SEND_MAX_RETRIES", default=5)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "Africa/Nairobi"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Never chosen by DEBUG: collectstatic always writes the hashed files and
    # manifest a DEBUG=0 site needs; a name missing from the manifest falls
    # back to its plain name instead of a 500 (core/static_storage.py).
    "staticfiles": {"BACKEND": "core.static_storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- HTTPS and security headers ----------------------------------------------

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Prometheus scrapes over the internal network (token or address allowlist).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "x-csrftoken",
    "x-requested-with",
)

# --- Django REST framework ---------------------------------------------------

NUM_PROXIES = env.int("NUM_PROXIES", default=0)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.exception_handler.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "stk_push_user": env.str("STK_PUSH_RATE_PER_USER", default="10/min"),
        "stk_push_phone": env.str("STK_PUSH_RATE_PER_PHONE", default="5/min"),
        "auth_token": env.str("AUTH_TOKEN_RATE", default="20/min"),
        "auth_register": env.str("AUTH_REGISTER_RATE", default="10/hour"),
        "auth_password_reset": env.str("AUTH_PASSWORD_RESET_RATE", default="5/hour"),
        # Booking requests per user (each holds a slot unpaid for a while).
        "booking_user": env.str("BOOKING_RATE_PER_USER", default="20/hour"),
    },
    "NUM_PROXIES": NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Haki Yetu Payments API",
    "DESCRIPTION": "Consultation bookings paid with M-Pesa STK Push.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ and /api/redoc/ load their JavaScript and CSS from
    # drf-spectacular-sidecar under /static/, never from a CDN at @latest.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge from validator.swagger.io on a public host.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "BookingStatusEnum": "bookings.models.BookingStatus",
        "BookingPaymentStatusEnum": "bookings.models.BookingPaymentStatus",
        "ConsultationKindEnum": "bookings.models.ConsultationKind",
        "PaymentStatusEnum": "payments.models.Payment.Status",
    },
}

# --- M-Pesa (Daraja) ---------------------------------------------------------

MPESA_ENVIRONMENT = env.str("MPESA_ENVIRONMENT", default="sandbox")
MPESA_BASE_URL = env.str("MPESA_BASE_URL", default="")
MPESA_CONSUMER_KEY = env.str("MPESA_CONSUMER_KEY", default="")
MPESA_CONSUMER_SECRET = env.str("MPESA_CONSUMER_SECRET", default="")
MPESA_BUSINESS_SHORT_CODE = env.str("MPESA_BUSINESS_SHORT_CODE", default="")
MPESA_PASSKEY = env.str("MPESA_PASSKEY", default="")
MPESA_TRANSACTION_TYPE = env.str(
    "MPESA_TRANSACTION_TYPE", default="CustomerPayBillOnline"
)
MPESA_PARTY_B = env.str("MPESA_PARTY_B", default="")
MPESA_CALLBACK_URL = env.str("MPESA_CALLBACK_URL", default="")
MPESA_CALLBACK_SECRET = env.str("MPESA_CALLBACK_SECRET", default="")
# Safaricom's published callback addresses (../shared/daraja.md §5: the 12
# widely cited plus the 2 mpesakit lists). Production accepts callbacks only
# from these unless MPESA_CALLBACK_ALLOWED_IPS replaces them (IPs/CIDRs);
# MPESA_CALLBACK_EXTRA_IPS adds to whichever list is in force. Empty = any.
SAFARICOM_CALLBACK_IPS = [
    "196.201.214.200", "196.201.214.206", "196.201.213.114", "196.201.214.207",
    "196.201.214.208", "196.201.213.44", "196.201.212.127", "196.201.212.138",
    "196.201.212.129", "196.201.212.136", "196.201.212.74", "196.201.212.69",
    "196.201.212.128", "196.201.212.132",
]  # fmt: skip
MPESA_CALLBACK_ALLOWED_IPS = env.list(
    "MPESA_CALLBACK_ALLOWED_IPS",
    default=SAFARICOM_CALLBACK_IPS if MPESA_ENVIRONMENT.lower() == "production" else [],
) + env.list("MPESA_CALLBACK_EXTRA_IPS", default=[])
MPESA_CALLBACK_TRUSTED_PROXIES = env.int("MPESA_CALLBACK_TRUSTED_PROXIES", default=0)
# Addresses (CIDRs) of our own proxies: X-Forwarded-For is read only when the
# connecting peer is one of them (and MPESA_CALLBACK_TRUSTED_PROXIES > 0).
MPESA_CALLBACK_PROXY_IPS = env.list("MPESA_CALLBACK_PROXY_IPS", default=[])
MPESA_VERIFY_CALLBACKS = env.bool("MPESA_VERIFY_CALLBACKS", default=False)
# Paybill (C2B): Safaricom posts a validation and a confirmation request to
# URLs registered on the shortcode (`manage.py mpesa_register_c2b_urls`).
# Their last path segment is MPESA_C2B_SECRET (default: the callback secret);
# the same IP allowlist and proxy rules as STK callbacks apply.
MPESA_C2B_SECRET = env.str("MPESA_C2B_SECRET", default="") or MPESA_CALLBACK_SECRET
# The Paybill number clients pay by hand (shown on the checkout page) and
# the shortcode the C2B URLs are registered on.
MPESA_C2B_SHORT_CODE = (
    env.str("MPESA_C2B_SHORT_CODE", default="") or MPESA_BUSINESS_SHORT_CODE
)
# Answer validation requests with a real decision (only when Safaricom has
# enabled external validation on the shortcode); off: accept every
# well-formed one (a body that is not a C2B request still gets C2B00016).
MPESA_C2B_VALIDATE = env.bool("MPESA_C2B_VALIDATE", default=False)
MPESA_C2B_CONFIRMATION_URL = env.str("MPESA_C2B_CONFIRMATION_URL", default="")
MPESA_C2B_VALIDATION_URL = env.str("MPESA_C2B_VALIDATION_URL", default="")
# Pull Transactions (the C2B transactions of the last 48 hours on
# MPESA_C2B_SHORT_CODE; docs/simulator.md). Registered once with
# `manage.py mpesa_pull_register`: the nominated number (254...) and a
# callback URL Daraja requires (default: the C2B confirmation URL; the rows
# come back synchronously). MPESA_PULL_ENABLED=1 runs the pull every
# MPESA_PULL_INTERVAL_MINUTES (production only: the sandbox has no Pull).
MPESA_PULL_ENABLED = env.bool("MPESA_PULL_ENABLED", default=False)
MPESA_PULL_INTERVAL_MINUTES = env.int("MPESA_PULL_INTERVAL_MINUTES", default=60)
MPESA_PULL_NOMINATED_NUMBER = env.str("MPESA_PULL_NOMINATED_NUMBER", default="")
MPESA_PULL_CALLBACK_URL = (
    env.str("MPESA_PULL_CALLBACK_URL", default="") or MPESA_C2B_CONFIRMATION_URL
)
# Callbacks that arrive while the database is down are kept here (local disk).
CALLBACK_SPOOL_DIR = env.str(
    "CALLBACK_SPOOL_DIR", default=str(VAR_DIR / "callback-spool")
)
MPESA_CONNECT_TIMEOUT = env.float("MPESA_CONNECT_TIMEOUT", default=5.0)
MPESA_READ_TIMEOUT = env.float("MPESA_READ_TIMEOUT", default=30.0)
# (MPESA_ACCOUNT_REFERENCE is gone: the STK AccountReference is always the
# booking's reference, so a Paybill copy of the payment names its booking.)
# How long a customer has to answer the prompt before we treat it as over.
MPESA_STK_LIFETIME_SECONDS = env.int("MPESA_STK_LIFETIME_SECONDS", default=180)
# An STK success callback no payment has is matched to a push of unknown
# outcome paid (TransactionDate) between 1 min before the push and the STK
# lifetime plus this grace after it (payments/services/unmatched.py).
MPESA_UNMATCHED_CALLBACK_WINDOW_SECONDS = env.int(
    "MPESA_UNMATCHED_CALLBACK_WINDOW_SECONDS", default=120
)
# A pending payment is queried this long after Daraja accepted it; the
# periodic sweep (every MPESA_RECONCILE_INTERVAL_SECONDS) takes payments
# older than this, and the follow-up task runs this long after acceptance.
MPESA_QUERY_AFTER_SECONDS = env.int("MPESA_QUERY_AFTER_SECONDS", default=90)
MPESA_FOLLOW_UP_QUERY_SECONDS = env.int(
    "MPESA_FOLLOW_UP_QUERY_SECONDS", default=MPESA_QUERY_AFTER_SECONDS
)
MPESA_RECONCILE_INTERVAL_SECONDS = env.float(
    "MPESA_RECONCILE_INTERVAL_SECONDS", default=60.0
)
# A payment just queried (by a sweep, query_pending or the follow-up task)
# is skipped by other sweeps for this long, so two runs do not query it
# twice; never longer than one sweep interval, so a payment Daraja still
# reports as processing is asked again at the next sweep.
MPESA_QUERY_CLAIM_SECONDS = env.float(
    "MPESA_QUERY_CLAIM_SECONDS", default=min(30.0, MPESA_RECONCILE_INTERVAL_SECONDS)
)
MPESA_QUERY_RATE_PER_SECOND = env.float("MPESA_QUERY_RATE_PER_SECOND", default=10.0)
MPESA_RETRY_AFTER_FAILURE_SECONDS = env.int(
    "MPESA_RETRY_AFTER_FAILURE_SECONDS", default=30
)
# How often beat applies again stored confirmations and callbacks whose
# money is not in the ledger (payments/services/reapply.py).
MPESA_REAPPLY_INTERVAL_SECONDS = env.float(
    "MPESA_REAPPLY_INTERVAL_SECONDS", default=3600.0
)

# Refunds (Reversal, B2C) and Transaction Status act as an API operator
# ("initiator") of the organisation; its password travels encrypted with the
# public key of M-Pesa's certificate (sandbox and production certificates
# differ; download them from the Daraja portal). A relative certificate
# path is read from the project folder.
MPESA_INITIATOR_NAME = env.str("MPESA_INITIATOR_NAME", default="")
MPESA_INITIATOR_PASSWORD = env.str("MPESA_INITIATOR_PASSWORD", default="")
MPESA_CERTIFICATE_PATH = env.str("MPESA_CERTIFICATE_PATH", default="")
if MPESA_CERTIFICATE_PATH and not Path(MPESA_CERTIFICATE_PATH).is_absolute():
    MPESA_CERTIFICATE_PATH = str(BASE_DIR / MPESA_CERTIFICATE_PATH)
# B2C (partial refunds), offered only when all three are set: its own
# shortcode (a B2C / bulk disbursement account) and its own initiator.
MPESA_B2C_SHORT_CODE = env.str("MPESA_B2C_SHORT_CODE", default="")
MPESA_B2C_INITIATOR_NAME = env.str("MPESA_B2C_INITIATOR_NAME", default="")
MPESA_B2C_INITIATOR_PASSWORD = env.str("MPESA_B2C_INITIATOR_PASSWORD", default="")
# The reversal's RecieverIdentifierType (sic): Daraja's docs say 11, some
# integrators needed 4 (../shared/daraja.md §6).
MPESA_REVERSAL_RECEIVER_IDENTIFIER_TYPE = env.str(
    "MPESA_REVERSAL_RECEIVER_IDENTIFIER_TYPE", default="11"
)
# Results of those requests come to ResultURL, queue time-outs to
# QueueTimeOutURL; both end in MPESA_RESULT_SECRET (default: the callback
# secret) and default to /api/payment/result/<secret> and
# /api/payment/timeout/<secret> on MPESA_CALLBACK_URL's host.
MPESA_RESULT_SECRET = (
    env.str("MPESA_RESULT_SECRET", default="") or MPESA_CALLBACK_SECRET
)


def _on_callback_host(path: str) -> str:
    """``path`` + the result secret on MPESA_CALLBACK_URL's scheme and host."""
    parts = urlsplit(MPESA_CALLBACK_URL)
    if not (parts.scheme and parts.netloc and MPESA_RESULT_SECRET):
        return ""
    return f"{parts.scheme}://{parts.netloc}{path}{MPESA_RESULT_SECRET}"


MPESA_RESULT_URL = env.str("MPESA_RESULT_URL", default="") or _on_callback_host(
    "/api/payment/result/"
)
MPESA_QUEUE_TIMEOUT_URL = env.str(
    "MPESA_QUEUE_TIMEOUT_URL", default=""
) or _on_callback_host("/api/payment/timeout/")
# A submitted refund with no result after this long is checked with
# Transaction Status.
MPESA_RESULT_WAIT_SECONDS = env.int("MPESA_RESULT_WAIT_SECONDS", default=600)

# --- Bookings ----------------------------------------------------------------

BOOKING_HOLD_MINUTES = env.int("BOOKING_HOLD_MINUTES", default=15)
# Unpaid bookings one client may hold at once (409 too_many_unpaid_bookings).
BOOKING_MAX_UNPAID_HOLDS = env.int("BOOKING_MAX_UNPAID_HOLDS", default=2)
# How many days ahead a consultation can be booked (400 slot_too_far_ahead).
BOOKING_MAX_DAYS_AHEAD = env.int("BOOKING_MAX_DAYS_AHEAD", default=90)

# --- Refunds (docs/refunds.md) -------------------------------------------------

# Refunds above this many KES need payments.approve_large_refund to approve.
REFUND_APPROVAL_LIMIT = env.int("REFUND_APPROVAL_LIMIT", default=10_000)
# A paid booking cancelled at least this many hours before it starts gets a
# full refund requested automatically (by the system user; a person still
# approves it). Later cancellations are left to staff.
REFUND_FULL_IF_CANCELLED_HOURS_BEFORE = env.int(
    "REFUND_FULL_IF_CANCELLED_HOURS_BEFORE", default=24
)
# The username of the system user that requests automatic refunds.
REFUND_SYSTEM_USERNAME = env.str("REFUND_SYSTEM_USERNAME", default="hakiyetu-system")
# How often beat requests the refunds bookings owe (refund_automatic.py).
REFUND_AUTOMATIC_INTERVAL_SECONDS = env.float(
    "REFUND_AUTOMATIC_INTERVAL_SECONDS", default=60.0
)

# --- Metrics and alerts (docs/observability.md) --------------------------------

# GET /metrics answers only a request with "Authorization: Bearer
# <METRICS_TOKEN>" or from an address in METRICS_ALLOWED_IPS (IPs/CIDRs,
# judged like the API's clients: NUM_PROXIES hops back); anyone else gets
# 404. With both unset it is closed, except to loopback when DEBUG is on.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
# Who hears about an alert starting and clearing: e-mail addresses and/or a
# Slack-compatible webhook (POST {"text": ...}).
ALERT_EMAILS = env.list("ALERT_EMAILS", default=[])
ALERT_WEBHOOK_URL = env.str("ALERT_WEBHOOK_URL", default="")
# An open payment this long past its STK lifetime is overdue.
ALERT_GRACE_SECONDS = env.int("ALERT_GRACE_SECONDS", default=300)
# Callback silence: at least this many pushes accepted in the last
# ALERT_SILENCE_MINUTES and no STK callback at all in that time.
ALERT_SILENCE_MINUTES = env.int("ALERT_SILENCE_MINUTES", default=15)
ALERT_SILENCE_MIN_PUSHES = env.int("ALERT_SILENCE_MIN_PUSHES", default=5)
# More payments in needs_review, or unallocated receipts, than this.
ALERT_REVIEW_BACKLOG = env.int("ALERT_REVIEW_BACKLOG", default=10)
# A refund whose outcome has been unknown this long.
ALERT_REFUND_UNKNOWN_SECONDS = env.int("ALERT_REFUND_UNKNOWN_SECONDS", default=3600)
# Share of failed Daraja requests (no answer, 401/403/429, 5xx) in the last
# ALERT_DARAJA_WINDOW_MINUTES, once there are ALERT_DARAJA_MIN_REQUESTS.
ALERT_DARAJA_ERROR_RATE = env.float("ALERT_DARAJA_ERROR_RATE", default=0.2)
ALERT_DARAJA_WINDOW_MINUTES = env.int("ALERT_DARAJA_WINDOW_MINUTES", default=10)
ALERT_DARAJA_MIN_REQUESTS = env.int("ALERT_DARAJA_MIN_REQUESTS", default=10)

# --- Personal data (docs/personal-data.md) ------------------------------------
# Fernet keys, comma-separated: the first encrypts, all decrypt (phone numbers
# and Daraja's bodies at rest; `manage.py rotate_field_keys` rewrites with the
# first). No default: `make run`/`make test` write local ones into .env, and
# `check --deploy` errors without them (hakiyetu.E003, hakiyetu.E004).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
# The HMAC key of the phone search index. Never rotated (the index would
# have to be rebuilt); keep it as secret as the encryption keys.
FIELD_HASH_KEY = env.str("FIELD_HASH_KEY", default="")
# `manage.py purge_personal_data` without --older-than: purge names and phone
# numbers of settled records older than this many days. Unset: no default.
PERSONAL_DATA_RETENTION_DAYS = env.int("PERSONAL_DATA_RETENTION_DAYS", default=None)

# --- Celery ------------------------------------------------------------------

CELERY_BROKER_URL = _url("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Embedded broker: a folder that the web process and the worker share.
    _queue_dir = VAR_DIR / "celery" / "queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis://"):
    # kombu's Redis transport, reusing its publishing client (core/broker.py).
    CELERY_BROKER_TRANSPORT = "core.broker:Transport"
# The status endpoint's ?wait= is woken through Redis pub/sub across
# processes (core/wakeups.py): this URL, else the cache's or the broker's
# when Redis; empty: each waiter re-checks the database every second.
WAKEUP_REDIS_URL = env.str("WAKEUP_REDIS_URL", default="") or next(
    (
        url
        for url in (CACHES["default"].get("LOCATION", ""), CELERY_BROKER_URL)
        if isinstance(url, str) and url.startswith(("redis://", "rediss://"))
    ),
    "",
)
CELERY_RESULT_BACKEND = "django-db"
# Celery's own defaults, spelled out: it reads these on every publish, and
# each one missing from settings costs a chain of failed look-ups (about
# a fifth of a publish's CPU, which every paid callback pays).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_SEND_SENT_EVENT = False
CELERY_TASK_REPR_MAXLEVELS = 3
CELERY_BROKER_POOL_ACQUIRE_TIMEOUT = None
CELERY_RESULT_EXTENDED = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Exactly one beat schedules, however many are started (core/beat.py): a
# PostgreSQL advisory lock, or on SQLite a file lock on this machine. A beat
# without the lock stands by and tries again every BEAT_LOCK_RETRY_SECONDS.
CELERY_BEAT_SCHEDULER = "core.beat:SingletonScheduler"
BEAT_LOCK_FILE = env.str("BEAT_LOCK_FILE", default=str(VAR_DIR / "beat.lock"))
BEAT_LOCK_RETRY_SECONDS = env.float("BEAT_LOCK_RETRY_SECONDS", default=10.0)
CELERY_BEAT_SCHEDULE = {
    "reconcile-pending-payments": {
        "task": "payments.tasks.payment_reconcile_pending_task",
        "schedule": MPESA_RECONCILE_INTERVAL_SECONDS,
    },
    "reapply-stored-reports": {
        "task": "payments.tasks.reports_reapply_stored_task",
        "schedule": MPESA_REAPPLY_INTERVAL_SECONDS,
    },
    "reconcile-refunds": {
        "task": "payments.tasks.refunds_reconcile_task",
        "schedule": MPESA_RECONCILE_INTERVAL_SECONDS,
    },
    "request-due-refunds": {
        "task": "payments.tasks.refunds_request_due_task",
        "schedule": REFUND_AUTOMATIC_INTERVAL_SECONDS,
    },
    "check-alerts": {
        "task": "observability.tasks.alerts_check_task",
        "schedule": 60.0,
    },
    "expire-booking-holds": {
        "task": "bookings.tasks.booking_expire_holds_task",
        "schedule": 60.0,
    },
    # "pull-transactions", only when MPESA_PULL_ENABLED=1.
    **pull_beat_entries(
        enabled=MPESA_PULL_ENABLED, interval_minutes=MPESA_PULL_INTERVAL_MINUTES
    ),
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Logging -----------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# text (default) or json: one JSON object per line (python-json-logger).
LOG_FORMAT = env.str("LOG_FORMAT", default="text").lower()
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
