"""NumFree settings: one file, configured only by environment variables.

With nothing set this is the embedded mode (DEBUG=1): SQLite in WAL mode with
secure_delete, in-memory channel layer, local-memory cache, console email and
the local fakes of Twilio and Stripe. DEBUG=0 is production: it refuses to
start while a required variable is missing, and nothing falls back to
simulation. docs/configuration.md lists every variable.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import sys
from datetime import timedelta
from hashlib import sha256 as _sha256
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from numfree.env import Env
from signaling.ice_urls import STUN_SCHEMES, TURN_SCHEMES, checked_ice_urls

env = Env()
BASE_DIR = Path(__file__).resolve().parent.parent
TESTING = "pytest" in sys.modules or env.bool("NUMFREE_TESTING", False)

DEBUG = env.bool("DEBUG", True)

# Where the embedded mode keeps its SQLite file, private files (voicemail
# audio, exports) and its generated secret key. Never served as static files.
DATA_DIR = Path(env.str("NUMFREE_DATA_DIR", str(BASE_DIR / "var"))).resolve()
PRIVATE_FILES_DIR = DATA_DIR / "private"


def _embedded_secret_key() -> str:
    """A random key made once per checkout, so no two installs share one."""
    path = DATA_DIR / "secret-key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY") or _embedded_secret_key()
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
    PUBLIC_URL = env.url("NUMFREE_PUBLIC_URL", "http://127.0.0.1:8000")
else:
    _missing = [name for name in ("SECRET_KEY", "ALLOWED_HOSTS", "NUMFREE_PUBLIC_URL") if not env.is_set(name)]
    if _missing:
        raise ImproperlyConfigured(
            "Production mode (DEBUG=0) needs these environment variables: " + ", ".join(_missing)
        )
    # Refused when Django's deploy check would call it weak (security.W009).
    SECRET_KEY = env.strong_key("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    PUBLIC_URL = env.url("NUMFREE_PUBLIC_URL", schemes=("https",))
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS") if DEBUG else env.strong_keys("SECRET_KEY_FALLBACKS")

_public = urlsplit(PUBLIC_URL)
PUBLIC_ORIGIN = f"{_public.scheme}://{_public.netloc}"
CSRF_TRUSTED_ORIGINS = [PUBLIC_ORIGIN]

INSTALLED_APPS = [
    "daphne",
    # django.contrib.admin whose site requires two-factor sign-in (twofactor/admin_site.py).
    "twofactor.admin_config.TwoFactorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "channels",
    "numfree",
    "numfree.outbox",
    "accounts",
    "telephony",
    "billing",
    "signaling",
    "privacy",
    "twofactor",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Times on pages in the signed-in user's zone (User.time_zone).
    "accounts.time_zones.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "twofactor.middleware.SecondFactorSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "numfree.middleware.ServiceErrorMiddleware",
    "privacy.middleware.PrivacyMiddleware",
]

ROOT_URLCONF = "numfree.urls"
ASGI_APPLICATION = "numfree.asgi.application"
# HTTP requests running Django code at once per web process, each on a thread of its own
# (numfree/http_handler.py): SQLite has one writer at a time, so a small number. On PostgreSQL
# 8 leaves room for views waiting on Twilio or Stripe; more threads only compete for the GIL
# (bench/webhooks.py at 250 texts/s: p99 16 ms with 4, 160 ms with 8, 208 ms with 16).
HTTP_CONCURRENCY = env.int(
    "NUMFREE_HTTP_CONCURRENCY",
    8 if env.is_set("DATABASE_URL") and "postgres" in env.str("DATABASE_URL") else 4,
    minimum=1,
    maximum=256,
)

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "numfree.context_processors.site",
                "billing.context_processors.billing_notice",
            ],
        },
    },
]
# Form labels without Django's ":" suffix, on every form alike (numfree/form_rendering.py).
FORM_RENDERER = "numfree.form_rendering.FormRenderer"

# --- Database -------------------------------------------------------------
# SQLite: WAL so readers never wait for the writer; secure_delete so erased
# bytes (an SMS body on its way to email) do not linger in free pages; writes
# take the lock up front (IMMEDIATE) so concurrent writers queue instead of
# failing with "database is locked".
_SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
# Set on every new connection by numfree.sqlite_wal.set_pragmas (connection_created), each run
# to its end. Not OPTIONS["init_command"]: Django runs that with conn.execute() and drops the
# cursor, so `journal_mode` and `secure_delete` (they answer a row) stay unfinished until the
# cursor is freed; another thread holding it a moment made the connection's first COMMIT fail
# ("SQL statements in progress") and the call-log write was lost.
SQLITE_PRAGMAS = ("journal_mode=WAL", "secure_delete=ON", "synchronous=NORMAL", "foreign_keys=ON")
if env.is_set("DATABASE_URL"):
    try:
        DATABASES = {"default": dj_database_url.parse(env.str("DATABASE_URL"), conn_max_age=0)}
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
    if DATABASES["default"]["ENGINE"] not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// or sqlite:/// URL")
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "numfree.sqlite3"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {**_SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
if env.is_set("NUMFREE_TEST_DB_NAME"):
    # Lets two test runs share one PostgreSQL server without sharing a database.
    DATABASES["default"]["TEST"] = {"NAME": env.str("NUMFREE_TEST_DB_NAME")}
elif TESTING and DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not :memory:, so tests can start real worker and web processes
    # on the same database; one per test run.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASE_IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if DATABASE_IS_POSTGRES and not TESTING:
    # Django's docs: under ASGI use the backend's pool, not CONN_MAX_AGE > 0 (a connection
    # belongs to a thread, and signaling's database reads run on another). The pool is shared by the process:
    # a request borrows a connection and returns it at its end (~1 ms less CPU than a new
    # one). CONN_HEALTH_CHECKS: the pool tests a connection before lending it, so after a
    # PostgreSQL restart no request gets a dead one. At most HTTP_CONCURRENCY requests run
    # Django code at once (numfree/http_handler.py); the rest is for signaling and headroom.
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "pool": {"min_size": 2, "max_size": HTTP_CONCURRENCY + 4, "timeout": 10},
    }
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# --- Cache, rate limits and the channel layer ----------------------------
REDIS_URL = env.url("REDIS_URL", "", schemes=("redis", "rediss", "unix"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "numfree",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # socket_timeout=None: blocking reads must not time out
            # (django/channels_redis#422).
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": None, "max_connections": 10000}],
                "prefix": "numfree",
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "numfree"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Production runs several web processes: SQLite and the in-memory layers would
# give each its own rate limits and channel layer. NUMFREE_SINGLE_PROCESS=1
# says this deployment is one web process (and its worker) on one machine.
SINGLE_PROCESS = env.bool("NUMFREE_SINGLE_PROCESS", False)
if not DEBUG and not SINGLE_PROCESS:
    _unshared = [
        *([] if DATABASE_IS_POSTGRES else ["DATABASE_URL=postgres://..."]),
        *([] if REDIS_URL else ["REDIS_URL=redis://..."]),
    ]
    if _unshared:
        raise ImproperlyConfigured(
            "Production mode (DEBUG=0) shares one database and one Redis between its processes: set "
            + " and ".join(_unshared)
            + " (or NUMFREE_SINGLE_PROCESS=1 to run a single web process with SQLite and in-memory layers)"
        )

# --- Accounts and passwords ---------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
if TESTING:
    # Same algorithm and prefix (bcrypt_sha256$), fewer rounds.
    PASSWORD_HASHERS.insert(0, "accounts.hashers.FastBCryptSHA256PasswordHasher")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "/"
EMAIL_VERIFICATION_MAX_AGE = timedelta(days=env.int("NUMFREE_EMAIL_VERIFICATION_DAYS", 3, minimum=1))
PASSWORD_RESET_TIMEOUT = env.int("NUMFREE_PASSWORD_RESET_SECONDS", 3600, minimum=60)

# --- Two-factor sign-in (twofactor/) ---------------------------------------
# TOTP secrets are sealed and recovery codes hashed with keys derived from
# these (never stored in the database). Defaults to SECRET_KEY and its fallbacks.
TWO_FACTOR_KEYS = env.list("NUMFREE_TWO_FACTOR_KEYS") or [SECRET_KEY, *SECRET_KEY_FALLBACKS]
TWO_FACTOR_ISSUER = env.str("NUMFREE_TWO_FACTOR_ISSUER", "NumFree")
# Codes tried per account per window (web and API together); then 429 until the window ends.
TWO_FACTOR_MAX_FAILURES = env.int("NUMFREE_TWO_FACTOR_MAX_FAILURES", 5, minimum=1, maximum=100)
TWO_FACTOR_FAILURE_WINDOW_SECONDS = env.int("NUMFREE_TWO_FACTOR_FAILURE_WINDOW_SECONDS", 900, minimum=30)
# How long the code step of a login waits after the right password.
TWO_FACTOR_LOGIN_SECONDS = env.int("NUMFREE_TWO_FACTOR_LOGIN_SECONDS", 300, minimum=30, maximum=3600)

# --- Cookies: only sessionid and csrftoken, ever ------------------------
SESSION_COOKIE_NAME = "sessionid"
# Database sessions tagged with their account, so a user's sessions are found without decoding them all.
SESSION_ENGINE = "privacy.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_AGE = env.int("NUMFREE_SESSION_DAYS", 14, minimum=1) * 86400
CSRF_COOKIE_NAME = "csrftoken"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "numfree.views.csrf_failure"
# Django's default message storage sets a "messages" cookie; keep them in the session.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
LANGUAGE_COOKIE_NAME = "django_language"  # never set: no language switcher

# --- HTTPS (production) --------------------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", True)
    # A health probe may reach a web process directly over plain HTTP (deploy/nginx.conf, docs/deploy.md).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Trust X-Forwarded-Proto only when told to: a proxy that does not overwrite
# the header would let any client claim HTTPS.
if env.is_set("NUMFREE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    if env.str("NUMFREE_PROXY_SSL_HEADER") != "X-Forwarded-Proto: https":
        raise ImproperlyConfigured('NUMFREE_PROXY_SSL_HEADER must be exactly "X-Forwarded-Proto: https"')
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Number of reverse proxies in front of the web process that append to
# X-Forwarded-For. 0: the client is REMOTE_ADDR and the header is ignored.
NUMFREE_TRUSTED_PROXY_COUNT = env.int("NUMFREE_TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=10)

# --- Content-Security-Policy (django-csp) --------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "media-src": [SELF],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Static files --------------------------------------------------------
STATIC_URL = "/static/"
# DEBUG serves from the apps' static/ folders; production from `collectstatic`'s output.
STATIC_ROOT = None if DEBUG else Path(env.str("NUMFREE_STATIC_ROOT", str(BASE_DIR / "staticfiles"))).resolve()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": PRIVATE_FILES_DIR}},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Email ---------------------------------------------------------------
# Every email goes through the outbox (numfree/outbox): no request waits on SMTP.
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "NumFree <no-reply@numfree.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if env.is_set("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env.str("EMAIL_HOST")
    EMAIL_PORT = env.int("EMAIL_PORT", 587, minimum=1, maximum=65535)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", 20, minimum=1)
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    raise ImproperlyConfigured("Production mode (DEBUG=0) needs EMAIL_HOST (and EMAIL_HOST_USER/EMAIL_HOST_PASSWORD)")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", EMAIL_BACKEND)

# --- Outbox and worker ---------------------------------------------------
# Outbox payloads are encrypted with keys derived from these (never stored in
# the database). Defaults to SECRET_KEY (and its fallbacks, for rotation).
OUTBOX_KEYS = env.list("NUMFREE_OUTBOX_KEYS") or [SECRET_KEY, *SECRET_KEY_FALLBACKS]
OUTBOX_LEASE_SECONDS = env.int("NUMFREE_OUTBOX_LEASE_SECONDS", 300, minimum=1)
OUTBOX_MAX_ATTEMPTS = env.int("NUMFREE_OUTBOX_MAX_ATTEMPTS", 12, minimum=1)
OUTBOX_BACKOFF_BASE_SECONDS = env.float("NUMFREE_OUTBOX_BACKOFF_BASE_SECONDS", 10.0, minimum=0)
OUTBOX_BACKOFF_MAX_SECONDS = env.float("NUMFREE_OUTBOX_BACKOFF_MAX_SECONDS", 3600.0, minimum=0)
WORKER_POLL_SECONDS = env.float("NUMFREE_WORKER_POLL_SECONDS", 1.0, minimum=0.01)
# Rows of jobs given up (kind, dates, error class; the payload is already
# erased) stay this long for support.
OUTBOX_FAILED_KEEP_DAYS = env.int("NUMFREE_OUTBOX_FAILED_KEEP_DAYS", 30, minimum=1)

# --- API (DRF + simplejwt) -----------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.api_auth.SignInJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "numfree.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", 30, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": (env.str("JWT_SIGNING_KEY") if DEBUG else env.strong_key("JWT_SIGNING_KEY")) or SECRET_KEY,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}
JWT_REFRESH_REUSE_GRACE_SECONDS = env.int("JWT_REFRESH_REUSE_GRACE_SECONDS", 30, minimum=0, maximum=3600)
SPECTACULAR_SETTINGS = {
    "TITLE": "NumFree API",
    "DESCRIPTION": "The API used by the NumFree Caller extension. Errors are {code, message}; see docs/errors.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}


# --- Rate limits (numfree/ratelimits.py, sliding windows on the shared cache; "N/s", "N/m", "N/h" or "N/d")
def _rate(name: str, default: str) -> str:
    value = env.str(name, default)
    count, _, period = value.partition("/")
    if not count.isdigit() or int(count) < 1 or period.lstrip("0123456789") not in {"s", "m", "h", "d"}:
        raise ImproperlyConfigured(f"{name} must look like 10/m (a count per s, m, h or d); got {value!r}")
    return value


RATE_LIMITS = {
    "login_ip": _rate("NUMFREE_RATE_LOGIN_IP", "20/m"),
    "login_account": _rate("NUMFREE_RATE_LOGIN_ACCOUNT", "5/m"),
    "signup_ip": _rate("NUMFREE_RATE_SIGNUP_IP", "10/h"),
    "password_reset_ip": _rate("NUMFREE_RATE_PASSWORD_RESET_IP", "10/h"),
    "password_reset_account": _rate("NUMFREE_RATE_PASSWORD_RESET_ACCOUNT", "3/h"),
    "token_ip": _rate("NUMFREE_RATE_TOKEN_IP", "20/m"),
    "token_account": _rate("NUMFREE_RATE_TOKEN_ACCOUNT", "5/m"),
    "refresh_ip": _rate("NUMFREE_RATE_REFRESH_IP", "60/m"),
    "two_factor_ip": _rate("NUMFREE_RATE_TWO_FACTOR_IP", "20/m"),
    "resend_verification_account": _rate("NUMFREE_RATE_RESEND_VERIFICATION", "5/h"),
    "resend_verification_ip": _rate("NUMFREE_RATE_RESEND_VERIFICATION_IP", "20/h"),
    "email_change_account": _rate("NUMFREE_RATE_EMAIL_CHANGE_ACCOUNT", "3/h"),
    "email_change_ip": _rate("NUMFREE_RATE_EMAIL_CHANGE_IP", "10/h"),
}

# --- The local fakes of Twilio and Stripe --------------------------------
# Tests and the embedded mode use them; production (DEBUG=0) only with
# NUMFREE_FAKE_PROVIDERS=1 set explicitly (the HTTPS proxy test runs the
# production topology on one machine), and says so at every start: with it no
# text, call or payment reaches Twilio or Stripe. NUMFREE_TESTING alone never
# makes a production process talk to the fakes.
FAKE_PROVIDERS = env.bool("NUMFREE_FAKE_PROVIDERS", False)
USE_FAKE_PROVIDERS = FAKE_PROVIDERS or (DEBUG and TESTING)
if FAKE_PROVIDERS and not DEBUG:
    # Logging is not configured yet: Python's last-resort handler writes this to stderr.
    logging.getLogger("numfree.settings").warning(
        "NUMFREE_FAKE_PROVIDERS=1 in production mode: Twilio and Stripe are the LOCAL FAKES; "
        "no text, call or payment reaches them. Never set it in a real deployment."
    )

# --- Numbers (Twilio) ----------------------------------------------------
# With no credentials in DEBUG (and always in tests) the same telephony code
# runs against telephony/twilio_fake.py, a local fake of Twilio's REST API
# plugged in below the official SDK. Production never falls back to it.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN")
if not DEBUG and not (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN):
    raise ImproperlyConfigured("Production mode (DEBUG=0) needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
TWILIO_FAKE = USE_FAKE_PROVIDERS or not (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)
TWILIO_TIMEOUT_SECONDS = env.float("NUMFREE_TWILIO_TIMEOUT_SECONDS", 10.0, minimum=1)
# Countries a number can be bought in (ISO codes Twilio's search accepts).
NUMBER_COUNTRIES = env.list("NUMFREE_NUMBER_COUNTRIES", ["US", "CA"])
# An SMS body that could not be emailed within this many hours is dropped and
# the user is told a message could not be forwarded (docs/telephony.md).
SMS_UNDELIVERABLE_HOURS = env.int("NUMFREE_SMS_UNDELIVERABLE_HOURS", 72, minimum=1, maximum=24 * 14)
# How often the worker asks Twilio for texts whose webhook never reached us (telephony/reconcile.py).
SMS_RECONCILE_SECONDS = env.int("NUMFREE_SMS_RECONCILE_SECONDS", 60, minimum=2, maximum=3600)
RING_SECONDS = env.int("NUMFREE_RING_SECONDS", 20, minimum=5, maximum=60)
VOICEMAIL_MAX_SECONDS = env.int("NUMFREE_VOICEMAIL_MAX_SECONDS", 120, minimum=10, maximum=600)
VOICEMAIL_DEFAULT_GREETING = "The person you are calling is not available. Please leave a message after the tone."
RATE_LIMITS["number_search_account"] = _rate("NUMFREE_RATE_NUMBER_SEARCH", "30/m")
RATE_LIMITS["number_buy_account"] = _rate("NUMFREE_RATE_NUMBER_BUY", "5/h")
RATE_LIMITS["phone_code_account"] = _rate("NUMFREE_RATE_PHONE_CODE", "5/h")
RATE_LIMITS["send_sms_account"] = _rate("NUMFREE_RATE_SEND_SMS", "30/h")
RATE_LIMITS["simulate_account"] = _rate("NUMFREE_RATE_SIMULATE", "60/m")
LOGS_PAGE_SIZE = 50

# --- Billing (Stripe) ----------------------------------------------------
# With no key in DEBUG (and always in tests) the same billing code runs
# against billing/fake_stripe/, a local fake of the Stripe endpoints NumFree
# uses, plugged in below the official SDK (its HTTP client). Production never
# falls back to it. docs/billing.md describes the flow.
_STRIPE_REQUIRED = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_PRICE_MONTHLY", "STRIPE_PRICE_YEARLY")
_stripe_missing = [name for name in _STRIPE_REQUIRED if not env.is_set(name)]
if _stripe_missing and (not DEBUG or env.is_set("STRIPE_SECRET_KEY")):
    raise ImproperlyConfigured(
        ("Production mode (DEBUG=0)" if not DEBUG else "STRIPE_SECRET_KEY is set, so Stripe")
        + " needs these environment variables: "
        + ", ".join(_stripe_missing)
    )
STRIPE_FAKE = USE_FAKE_PROVIDERS or bool(_stripe_missing)
if STRIPE_FAKE:
    STRIPE_SECRET_KEY = "sk_test_fake"
    # Derived from SECRET_KEY so the web and worker processes share it.
    STRIPE_WEBHOOK_SECRET = "whsec_fake_" + _sha256(b"fake-stripe:" + SECRET_KEY.encode()).hexdigest()[:32]
    STRIPE_PRICE_MONTHLY = "price_fake_monthly"
    STRIPE_PRICE_YEARLY = "price_fake_yearly"
else:
    STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET")
    STRIPE_PRICE_MONTHLY = env.str("STRIPE_PRICE_MONTHLY")
    STRIPE_PRICE_YEARLY = env.str("STRIPE_PRICE_YEARLY")
STRIPE_TIMEOUT_SECONDS = env.float("NUMFREE_STRIPE_TIMEOUT_SECONDS", 20.0, minimum=1)
# What the pricing page shows next to each plan (Stripe's Price holds the real amount).
BILLING_PLANS = {
    "monthly": {"price": STRIPE_PRICE_MONTHLY, "label": env.str("NUMFREE_PLAN_MONTHLY_LABEL", "$5 a month")},
    "yearly": {"price": STRIPE_PRICE_YEARLY, "label": env.str("NUMFREE_PLAN_YEARLY_LABEL", "$50 a year")},
}
# past_due keeps service this long; then (or at cancellation) service stops and
# the number is held this long before it is released.
BILLING_GRACE_DAYS = env.int("NUMFREE_BILLING_GRACE_DAYS", 7, minimum=0, maximum=60)
BILLING_NUMBER_HOLD_DAYS = env.int("NUMFREE_NUMBER_HOLD_DAYS", 30, minimum=1, maximum=365)
# A reminder of the release date goes out this many days before it.
BILLING_RELEASE_REMINDER_DAYS = env.int("NUMFREE_NUMBER_RELEASE_REMINDER_DAYS", 3, minimum=1, maximum=30)

# --- The local fakes' own store -------------------------------------------
# What the fake Twilio and fake Stripe hold lives in their own SQLite file,
# shared by the web and worker processes and never in NumFree's database
# (numfree/fake_store.py). Tests give each test a fresh one.
FAKES_DB = Path(env.str("NUMFREE_FAKES_DB", str(DATA_DIR / "fakes.sqlite3"))).resolve()

# --- Signaling -----------------------------------------------------------
# Chrome extension ids allowed as WebSocket Origins (chrome-extension://<id>).
# The embedded default lists the dev build's id (its manifest key is fixed).
# Production has no default: without it every extension socket would be refused (403).
NUMFREE_EXTENSION_IDS = env.list("NUMFREE_EXTENSION_IDS", ["lcfnpmfgjjhjcpnhpinojcpgakoaaonk"] if DEBUG else [])
if not DEBUG and not NUMFREE_EXTENSION_IDS:
    raise ImproperlyConfigured(
        "Production mode (DEBUG=0) needs NUMFREE_EXTENSION_IDS: the NumFree Caller extension ids allowed to "
        "connect (the Web Store id, and the id of any build of your own; see docs/extension.md)"
    )
for _extension_id in NUMFREE_EXTENSION_IDS:
    if not re.fullmatch(r"[a-p]{32}", _extension_id):
        raise ImproperlyConfigured(
            f"NUMFREE_EXTENSION_IDS: {_extension_id!r} is not a Chrome extension id (32 letters a-p)"
        )
# Timers, in milliseconds (tests run them in a few ms; see signaling/clock.py).
SIGNALING_AUTH_TIMEOUT_MS = env.int("NUMFREE_SIGNALING_AUTH_TIMEOUT_MS", 5000, minimum=1)
SIGNALING_INVITE_LIFETIME_MS = env.int("NUMFREE_SIGNALING_INVITE_LIFETIME_MS", 60000, minimum=1)
SIGNALING_RECONNECT_GRACE_MS = env.int("NUMFREE_SIGNALING_RECONNECT_GRACE_MS", 20000, minimum=1)
SIGNALING_PRESENCE_TTL_MS = env.int("NUMFREE_SIGNALING_PRESENCE_TTL_MS", 30000, minimum=30)
SIGNALING_MAX_DEVICES = env.int("NUMFREE_SIGNALING_MAX_DEVICES", 5, minimum=1)
# Per-connection token bucket: frames per second, burst, and how many refused
# frames in a row before the socket is closed with 4429.
SIGNALING_RATE_PER_SECOND = env.float("NUMFREE_SIGNALING_RATE_PER_SECOND", 50.0, minimum=1)
SIGNALING_RATE_BURST = env.int("NUMFREE_SIGNALING_RATE_BURST", 200, minimum=1)
SIGNALING_RATE_STRIKES = env.int("NUMFREE_SIGNALING_RATE_STRIKES", 20, minimum=1)
# ICE: no third-party STUN by default. A deployment lists its own STUN/TURN
# URLs (deploy/turnserver runs coturn); TURN credentials are minted per
# request (coturn use-auth-secret). A malformed URL would make browsers refuse
# every call, a short secret could be guessed from one issued password.
SIGNALING_STUN_URLS = checked_ice_urls("NUMFREE_STUN_URLS", env.list("NUMFREE_STUN_URLS", []), STUN_SCHEMES)
SIGNALING_TURN_URLS = checked_ice_urls("NUMFREE_TURN_URLS", env.list("NUMFREE_TURN_URLS", []), TURN_SCHEMES)
SIGNALING_TURN_SECRET = env.str("NUMFREE_TURN_SECRET", "")
SIGNALING_TURN_TTL_SECONDS = env.int("NUMFREE_TURN_TTL_SECONDS", 3600, minimum=60, maximum=86400)
if SIGNALING_TURN_URLS and not SIGNALING_TURN_SECRET:
    raise ImproperlyConfigured("NUMFREE_TURN_URLS needs NUMFREE_TURN_SECRET (coturn's static-auth-secret)")
if SIGNALING_TURN_SECRET and len(SIGNALING_TURN_SECRET) < 32:
    raise ImproperlyConfigured("NUMFREE_TURN_SECRET must be at least 32 characters (e.g. openssl rand -base64 32)")
# Signaling's own channel layer: per-message cost independent of connected
# sockets (signaling/layers.py); Redis pub/sub between processes.
if REDIS_URL:
    CHANNEL_LAYERS["signaling"] = {
        "BACKEND": "signaling.layers.RedisBridgeLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "numfree"},
    }
else:
    CHANNEL_LAYERS["signaling"] = {"BACKEND": "signaling.layers.LocalChannelLayer"}

# --- Privacy -------------------------------------------------------------
# Call and SMS logs, voicemails and usage data older than this are deleted
# (the policy page states this number).
RETENTION_DAYS = env.int("NUMFREE_RETENTION_DAYS", 90, minimum=1)
# Days to answer a data-subject request: GDPR one month, CCPA 45 days.
PRIVACY_REQUEST_DUE_DAYS = {
    "gdpr": env.int("NUMFREE_GDPR_DUE_DAYS", 30, minimum=1, maximum=30),
    "ccpa": env.int("NUMFREE_CCPA_DUE_DAYS", 45, minimum=1, maximum=45),
}
PRIVACY_EXPORT_HOURS = env.int("NUMFREE_EXPORT_HOURS", 24, minimum=1, maximum=24)
# How the policy page names the processors this deployment uses: the database
# host (when it is not this machine) and the email provider that carries
# forwarded SMS. Empty: named by their host name.
PRIVACY_DATABASE_PROVIDER = env.str("NUMFREE_DATABASE_PROVIDER", "")
PRIVACY_EMAIL_PROVIDER = env.str("NUMFREE_EMAIL_PROVIDER", "")
# The purge deletes this many rows per transaction, then pauses so page requests' writes get in
# (a writer waiting for SQLite's lock retries after 1, 2, 5, 10, 15, 20, 25 ms...: a shorter
# pause is often missed). Figures: bench/purge.py, docs/privacy.md.
PRIVACY_PURGE_BATCH_SIZE = env.int("NUMFREE_PURGE_BATCH_SIZE", 2000, minimum=100, maximum=50000)
PRIVACY_PURGE_PAUSE_SECONDS = env.float("NUMFREE_PURGE_PAUSE_SECONDS", 0.02, minimum=0)
# Privacy-center requests that queue work or reach staff, per account (docs/privacy.md).
RATE_LIMITS["privacy_export"] = _rate("NUMFREE_RATE_PRIVACY_EXPORT", "3/h")
RATE_LIMITS["privacy_request"] = _rate("NUMFREE_RATE_PRIVACY_REQUEST", "5/h")
RATE_LIMITS["account_deletion"] = _rate("NUMFREE_RATE_ACCOUNT_DELETION", "5/h")
RATE_LIMITS["voicemail_delete_account"] = _rate("NUMFREE_RATE_VOICEMAIL_DELETE", "120/h")
RATE_LIMITS["billing_checkout_account"] = _rate("NUMFREE_RATE_BILLING_CHECKOUT", "10/h")
RATE_LIMITS["billing_portal_account"] = _rate("NUMFREE_RATE_BILLING_PORTAL", "30/h")

# --- Logging: no personal data (see numfree/logging.py) -------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "numfree.logging.ScrubPersonalData"}},
    "formatters": {"plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["scrub"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django logs every 4xx with its URL; URLs can carry signed tokens.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "ERROR"},
    },
}

TIME_ZONE = "UTC"
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = False
