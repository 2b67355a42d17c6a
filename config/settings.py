"""Settings read from the environment (django-environ).

Embedded default: SpatiaLite file DB and eager Celery. Set DATABASE_URL=postgis://... and
CELERY_BROKER_URL=redis://... for production; DJANGO_ENV=production turns on the secure settings.
"""
import sqlite3
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DJANGO_ENV = env("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
if PRODUCTION:
    SECRET_KEY = env("SECRET_KEY")  # no default: production must set it
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
else:
    SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me-in-production-0123456789abcdef")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django_filters",
    "graphene_django",
    "axes",
    "mozilla_django_oidc",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "kernel",
    "api",
    "regions",
    "exchange",
    "ledger",
    "notifications",
    "lifecycle",
    "reports",
    "evaluation",
    "workbench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The second factor is held by the session (SecondFactorMiddleware: a session that owes its code reaches
    # only the two-factor pages); django-otp's OTPMiddleware, which would load the device on every request
    # for `user.is_verified()`, is not installed: nothing asks it.
    "workbench.two_factor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.inbox",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", default=f"spatialite:///{BASE_DIR / 'db.sqlite3'}")
_SCHEMES = {"spatialite": "django.contrib.gis.db.backends.spatialite",
            "postgis": "django.contrib.gis.db.backends.postgis"}
_scheme = DATABASE_URL.split(":", 1)[0]
if _scheme not in _SCHEMES:
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {_scheme!r} is not supported; use spatialite:///path/db.sqlite3 "
        "or postgis://user:pass@host:port/name"
    )
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["ENGINE"] = _SCHEMES[_scheme]
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# PostgreSQL: DATABASE_URL is the application's role, which owns nothing; DATABASE_OWNER_URL the owner
# (migrations). GWC_DB_AS_OWNER=1 makes a command connect as the owner (kernel/pgroles.py).
DATABASE_OWNER_URL = env("DATABASE_OWNER_URL", default="")
DATABASE_OWNER = env.db_url_config(DATABASE_OWNER_URL) if DATABASE_OWNER_URL else None
DATABASE_APP_ROLE = DATABASES["default"].get("USER", "") if DATABASE_OWNER else ""
DATABASE_APP_PASSWORD = DATABASES["default"].get("PASSWORD", "")
if DATABASE_OWNER and env.bool("GWC_DB_AS_OWNER", default=False):
    DATABASES["default"].update(USER=DATABASE_OWNER["USER"], PASSWORD=DATABASE_OWNER.get("PASSWORD", ""))
SPATIALITE = _scheme == "spatialite"
if not SPATIALITE:
    # Persistent connections: a request reuses its worker's connection (checked before reuse) instead of
    # paying a PostgreSQL backend start per request. JIT off: our queries are short OLTP reads and writes,
    # where compiling expressions costs more than it saves (and it is chosen by row estimates, not time).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = env("PG_OPTIONS", default="-c jit=off")
SQLITE_BUSY_TIMEOUT = env.int("SQLITE_BUSY_TIMEOUT", default=20)  # seconds a writer waits for the lock
if SPATIALITE:
    SPATIALITE_LIBRARY_PATH = env("SPATIALITE_LIBRARY_PATH", default="mod_spatialite")
    try:
        _probe = sqlite3.connect(":memory:")
        _probe.enable_load_extension(True)
        _probe.load_extension(SPATIALITE_LIBRARY_PATH)
        _probe.close()
    except AttributeError as exc:
        raise ImproperlyConfigured(
            "this Python's sqlite3 cannot load extensions; run `make setup` (it builds .venv from "
            "Debian's /usr/bin/python3)"
        ) from exc
    except sqlite3.OperationalError as exc:
        raise ImproperlyConfigured(
            "SpatiaLite (mod_spatialite) cannot be loaded; run `make setup` or "
            "`apt-get install libsqlite3-mod-spatialite`"
        ) from exc
    # BEGIN IMMEDIATE: a transaction takes the write lock when it starts, so concurrent writers queue on the
    # busy timeout (instead of failing "database is locked" when a read transaction upgrades); api.errors
    # retries the whole transaction if the wait runs out. WAL, the busy timeout and recursive_triggers are
    # set on every connection by kernel.sqlite (after SpatiaLite has loaded, which resets the timeout).
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": SQLITE_BUSY_TIMEOUT,
                                                           "transaction_mode": "IMMEDIATE"})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "regions.backends.EmergencyAwareModelBackend",
    "regions.oidc.UnifiedIdentityBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Sign-in lockout (config/lockout.py): a username from one address after AXES_FAILURE_LIMIT failures, from
# every address only after AXES_USERNAME_FAILURE_LIMIT; never an address alone. Locks end after the cool-off.
AXES_HANDLER = "config.lockout.PairThenUsernameHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]  # order used by config.lockout
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_USERNAME_FAILURE_LIMIT = env.int("AXES_USERNAME_FAILURE_LIMIT", default=30)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the time the message gives stays true
AXES_LOCKOUT_CALLABLE = "config.lockout.lockout_response"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# --- Single sign-on: OpenID Connect with the unified identity service (mozilla-django-oidc) -------------
# Offered on the sign-in page once OIDC_RP_CLIENT_ID is set. Endpoints default to the issuer's paths of a
# django-oauth-toolkit provider (the test and demo provider, tests/idp); set each one for another provider.
OIDC_OP_ISSUER = env("OIDC_OP_ISSUER", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", default=f"{OIDC_OP_ISSUER}/authorize/")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default=f"{OIDC_OP_ISSUER}/token/")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default=f"{OIDC_OP_ISSUER}/userinfo/")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default=f"{OIDC_OP_ISSUER}/.well-known/jwks.json")
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid profile email"
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10
# a first sign-in links the registered person whose email the provider has verified
OIDC_LINK_VERIFIED_EMAIL = env.bool("OIDC_LINK_VERIFIED_EMAIL", default=True)
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=failed"
OTP_TOTP_ISSUER = "Gongwucang 公物仓"  # the name authenticator apps show for the TOTP key

# --- i18n -------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]  # native names, never translated
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
MEDIA_URL = "media/"
# The public address printed in documents (a certificate's verify link, QR code); services read it
# here instead of taking the request's host, so a report rendered by a worker says the same thing.
PUBLIC_BASE_URL = env("GWC_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")

MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
# Media is never served by path (exchange/media.py). Behind nginx, name an `internal` location mapped to
# MEDIA_ROOT (e.g. /protected-media/) to let the server send files after Django checked access.
PROTECTED_MEDIA_ACCEL = env("PROTECTED_MEDIA_ACCEL", default="")
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)

# --- Celery -----------------------------------------------------------------------------------------
# Three modes: CELERY_BROKER_URL (Redis) in production; CELERY_EMBEDDED=1 (set by `make run`): kombu's
# filesystem transport on a folder under var/, so a fresh machine runs a worker and beat with no broker
# server; neither (tests, shell): tasks run eagerly in-process.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_EMBEDDED = not CELERY_BROKER_URL and env.bool("CELERY_EMBEDDED", default=False)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL and not CELERY_EMBEDDED
if CELERY_EMBEDDED:
    CELERY_QUEUE_DIR = Path(env("CELERY_QUEUE_DIR", default=str(BASE_DIR / "var" / "celery")))
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"), "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"), "store_processed": False,
    }
    CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_IMPORTS = ["exchange.tasks_import"]
CELERY_BEAT_SCHEDULE = {
    "approval-reminders": {"task": "exchange.tasks.send_approval_reminders", "schedule": 3600.0},
    "allocate-closed-windows": {"task": "exchange.tasks.allocate_closed_windows", "schedule": 300.0},
    "office-space-rent": {"task": "ledger.tasks.post_monthly_rent", "schedule": 86400.0},
    "evaluation-cycles": {"task": "evaluation.tasks.close_evaluation_cycles", "schedule": 86400.0},
    "open-disposals": {"task": "lifecycle.tasks.open_disposals", "schedule": 300.0},
    "regional-want-alerts": {"task": "lifecycle.tasks.alert_regional_wants", "schedule": 300.0},
    "loan-lights": {"task": "lifecycle.tasks.send_loan_lights", "schedule": 900.0},
    "loan-approval-lights": {"task": "lifecycle.tasks.send_loan_approval_lights", "schedule": 900.0},
    "webhook-retries": {"task": "lifecycle.tasks.retry_webhooks", "schedule": 60.0},
    "stage-escalation": {"task": "regions.tasks.escalate_overdue_stages", "schedule": 900.0},
    "audit-checkpoint": {"task": "kernel.tasks.audit_checkpoint", "schedule": 86400.0},
}

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="gongwucang@localhost")

# --- GraphQL ----------------------------------------------------------------------------------------
GRAPHENE = {
    "SCHEMA": "config.schema.schema",
    "RELAY_CONNECTION_MAX_LIMIT": 200,
    "RELAY_CONNECTION_ENFORCE_FIRST_OR_LAST": False,
    "MIDDLEWARE": ["api.limits.TimeBudgetMiddleware", "api.middleware.DomainErrorMiddleware"],
}
GRAPHQL_MAX_DEPTH = env.int("GRAPHQL_MAX_DEPTH", default=10)
GRAPHQL_MAX_COST = env.int("GRAPHQL_MAX_COST", default=20000)
GRAPHQL_MAX_BATCH = env.int("GRAPHQL_MAX_BATCH", default=5)
GRAPHQL_MAX_FIELDS = env.int("GRAPHQL_MAX_FIELDS", default=500)  # field selections in one document
GRAPHQL_MAX_TOKENS = env.int("GRAPHQL_MAX_TOKENS", default=10000)
GRAPHQL_TIME_BUDGET = env.float("GRAPHQL_TIME_BUDGET", default=10.0)  # seconds one request may run
GRAPHQL_INTROSPECTION = env.bool("GRAPHQL_INTROSPECTION", default=not PRODUCTION)
GRAPHIQL = env.bool("GRAPHIQL", default=not PRODUCTION)  # the in-browser IDE at /graphql/
GRAPHQL_FIELD_SUGGESTIONS = env.bool("GRAPHQL_FIELD_SUGGESTIONS", default=not PRODUCTION)  # "Did you mean …?"
GRAPHQL_TOKEN_RATE = env("GRAPHQL_TOKEN_RATE", default="600/m")
CERTIFICATE_VERIFY_RATE = env("CERTIFICATE_VERIFY_RATE", default="30/m")  # per address, /reports/verify/…
# Production option: run only the operations of this directory (e.g. graphql/operations); see api/persisted.py.
GRAPHQL_PERSISTED_OPERATIONS = env("GRAPHQL_PERSISTED_OPERATIONS", default="")

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# Rate-limit counters must be shared by every worker process: Redis when CACHE_URL (redis://) or a Redis
# CELERY_BROKER_URL is set; otherwise, in production, the database cache (table gwc_cache, made by
# `make setup`), and in development and tests this process's memory (one runserver process).
# RATELIMIT_CACHE_URL overrides the choice.
_redis = next((url for url in (env("CACHE_URL", default=""), CELERY_BROKER_URL)
               if url.startswith(("redis://", "rediss://"))), "")
if env("RATELIMIT_CACHE_URL", default=""):
    CACHES["ratelimit"] = env.cache_url("RATELIMIT_CACHE_URL")
elif _redis:
    CACHES["ratelimit"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis,
                           "KEY_PREFIX": "gwc"}
elif PRODUCTION:
    CACHES["ratelimit"] = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "gwc_cache"}
else:
    CACHES["ratelimit"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit"}

SILENCED_SYSTEM_CHECKS = ["gis.W001"]  # Debian 12 ships GDAL 3.6; we read no untrusted rasters/SRS

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
