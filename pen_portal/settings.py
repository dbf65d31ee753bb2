"""PEN Portal settings: one file, driven by environment variables.

``PEN_ENV=production`` switches to production behaviour: every secret and host must be
given explicitly (a missing one stops start-up with a clear message), DEBUG is off,
HTTPS-only cookies and HSTS are on, and two-factor authentication is required.
Without it (the default, "development") the portal runs on an embedded SQLite database
and a Celery transport that needs no broker server, so a fresh machine can start it.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PEN_VAR_DIR", BASE_DIR / "var"))

ENVIRONMENT = os.environ.get("PEN_ENV", "development")
if ENVIRONMENT not in {"development", "production", "test"}:
    raise ImproperlyConfigured(f"PEN_ENV must be development, production or test, not {ENVIRONMENT!r}.")
PRODUCTION = ENVIRONMENT == "production"


def env(name, default=None, *, required_in_production=False):
    """Read an environment variable; in production a required one may not fall back."""
    value = os.environ.get(name)
    if value not in (None, ""):
        return value
    if PRODUCTION and required_in_production:
        raise ImproperlyConfigured(f"The environment variable {name} is required when PEN_ENV=production.")
    return default


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [part.strip() for part in env(name, default).split(",") if part.strip()]


SECRET_KEY = env(
    "SECRET_KEY",
    "dev-only-insecure-key-do-not-use-in-production",
    required_in_production=True,
)
if PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("dev-only")):
    raise ImproperlyConfigured("SECRET_KEY must be a random value of at least 50 characters in production.")

DEBUG = env_bool("DEBUG", not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG may not be on when PEN_ENV=production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
if PRODUCTION and not os.environ.get("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("The environment variable ALLOWED_HOSTS is required when PEN_ENV=production.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# The public address of the portal, used in e-mails and webhook payloads. `./portal run`
# sets it to the port the demo serves on (PORT); without it, runserver's default port.
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000", required_in_production=True).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "oauth2_provider",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    # Installs the triggers declared in models' Meta.triggers (the timeline's append-only
    # protection, notifications.Event) through migrations; PostgreSQL only.
    "pgtrigger",
    # The portal's apps, from the bottom layer up (docs/architecture.md). ``web`` has no
    # models; it is installed for its template tags (web/templatetags/).
    "web",
    "api",
    "accounts",
    "authorities",
    "messaging",
    "notifications",
    "chasing",
    "incidents",
    "monitoring",
    "timeliness",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.RequireTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # An action's address opened directly: a page saying why instead of an empty 405
    # (inside the session, user and messages middleware, whose context the page uses).
    "pen_portal.errors.MethodNotAllowedPageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks, so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pen_portal.urls"
WSGI_APPLICATION = "pen_portal.wsgi.application"

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
                "django.template.context_processors.i18n",
                # The header's current section (aria-current="page").
                "web.navigation.section",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# DATABASE_URL selects PostgreSQL (postgres://user@host:5432/name); without it an
# embedded SQLite file under var/ is used, which needs no server.
DATABASE_URL = env("DATABASE_URL", required_in_production=True)
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", str(VAR_DIR / "pen_portal.sqlite3")),
            # Web, worker and beat share the file; wait for a lock rather than fail.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first, so a locked-out login never reaches the password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Two-factor authentication (django-otp TOTP) is required of every human user in
# production; the demo leaves it optional so a visitor can log in with printed credentials.
PEN_REQUIRE_2FA = env_bool("PEN_REQUIRE_2FA", PRODUCTION)
OTP_TOTP_ISSUER = "PEN Portal"

# django-axes: lock an account/address pair after repeated failures.
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

INVITATION_VALID_FOR = timedelta(days=7)

# django-guardian: no anonymous user row; object permissions only for shares.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# --- OAuth 2.0 for national licensing systems (django-oauth-toolkit) -------------------
API_SCOPES = {
    "notifications:read": "Read notifications your authority is party to",
    "notifications:write": "File, submit, withdraw notifications and answer requests for information",
    "notifications:respond": "Acknowledge and reply to incoming notifications",
    "statistics:read": "Read timeliness statistics",
    "incidents:read": "Read incidents visible to your authority and their matches",
    "incidents:write": "Report and amend your authority's incidents",
    "estimates:write": "INCB: maintain the estimates (ALRs) and the special surveillance list",
}
# Named explicitly so migrations can resolve the toolkit's swappable model.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    "SCOPES": API_SCOPES,
    "DEFAULT_SCOPES": list(API_SCOPES),
    "SCOPES_BACKEND_CLASS": "accounts.oauth.ApiClientScopes",
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(env("API_TOKEN_LIFETIME_SECONDS", "3600")),
    # Client secrets are hashed at rest (the toolkit's default); the plain secret is
    # shown once, when the client is created.
    # RFC 9700 (OAuth 2.0 Security BCP), which `manage.py check --deploy` asks for: access
    # tokens are stored only as their SHA-256 at rest, tokens in query strings are refused,
    # and the grants and redirect schemes it discourages are off.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}

# Rate limits (DRF's "N/second|minute|hour|day"). A licensing system that polls every
# minute and files in bursts stays far below the per-client rate; a runaway loop does not.
API_RATE_PER_CLIENT = env("API_RATE_PER_CLIENT", "600/minute")
API_RATE_ANONYMOUS = env("API_RATE_ANONYMOUS", "60/minute")
# Failed token requests (a wrong client secret) per client id and address, in a window;
# past it the token endpoint answers 429 until the window has passed (accounts.oauth).
TOKEN_FAILURE_LIMIT = int(env("TOKEN_FAILURE_LIMIT", "10"))
TOKEN_FAILURE_WINDOW_SECONDS = int(env("TOKEN_FAILURE_WINDOW_SECONDS", "900"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.oauth.ApiClientAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only, with a bound on nesting (api.parsers): the bodies are nested, which a form
    # cannot carry, and a schema that offered form encodings made generated clients send
    # multipart (issue 19). An upload endpoint declares its own multipart parser.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    # Per licensing system (its machine user) and per anonymous address (api.throttles).
    "DEFAULT_THROTTLE_CLASSES": ["api.throttles.ClientRateThrottle", "api.throttles.AnonymousRateThrottle"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PEN Portal API",
    "DESCRIPTION": (
        "REST API v1 for national licensing systems: pre-export notifications of precursor "
        "chemicals, replies and timeliness. Machine clients authenticate with OAuth 2.0 client "
        "credentials (POST /oauth/token/)."
    ),
    "VERSION": "1.0.0",
    # Whom an integrator writes to, and on what terms the API is offered (issue 19).
    "CONTACT": {"name": "PEN Portal operators", "email": env("API_CONTACT_EMAIL", "support@pen-portal.example")},
    "LICENSE": {"name": "Restricted: for competent national authorities and INCB"},
    "SERVE_INCLUDE_SCHEMA": False,
    # The shared errors, the token endpoint, servers and tags (api.schema.complete_schema).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.complete_schema"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Several resources have a "kind"; the incidents' gets its own name (issue 11).
    "ENUM_NAME_OVERRIDES": {
        "IncidentKindEnum": "incidents.models.IncidentKind",
        "NotificationKindEnum": "notifications.models.NotificationKind",
    },
    # Swagger UI served by the installation (drf-spectacular-sidecar), never from a CDN:
    # many government networks cannot reach one, and a CDN is a third party in the page.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Content-Security-Policy (django-csp): the installation's own files only, no inline
# scripts or styles anywhere (pages keep their CSS and JS in static/), no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # data: for the small icons Swagger UI's stylesheet embeds.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Celery ---------------------------------------------------------------------------
# REDIS_URL selects Redis as broker; without it the kombu filesystem transport passes
# messages through a folder, so the demo's web, worker and beat need no broker server.
REDIS_URL = env("REDIS_URL", required_in_production=True)

# Counters shared by every web process (rate limits) live in Redis when there is one;
# the embedded default keeps them per process.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pen",
        }
    }

CELERY_TASK_ALWAYS_EAGER = False
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A task whose worker died is redelivered after this many seconds. Chasing never
    # relies on long countdowns (it is driven by database state), so it can stay short.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(env("CELERY_VISIBILITY_TIMEOUT", "3600"))}
else:
    _queue_dir = VAR_DIR / "celery-queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
    }
# Tasks acknowledge after running and are redelivered if the worker dies, so every task
# is written to be idempotent (the database decides what has already happened).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CHASE_SWEEP_SECONDS = int(env("CHASE_SWEEP_SECONDS", "60"))
# Notifications chased per transaction by the sweep (chasing.sweep.chase_batch).
CHASE_BATCH = int(env("CHASE_BATCH", "500"))
# The relay re-enqueues outbox messages still unsent this long after they were written
# (their enqueue was lost, or the worker holding them died), every OUTBOX_RELAY_SECONDS.
OUTBOX_RELAY_SECONDS = int(env("OUTBOX_RELAY_SECONDS", "60"))
OUTBOX_RELAY_AFTER_SECONDS = int(env("OUTBOX_RELAY_AFTER_SECONDS", "120"))
# name -> (task, every N seconds); read by pen_portal.celery for the one beat process.
CELERY_PERIODIC_TASKS = {
    "chase-sweep": ("chasing.chase_sweep", CHASE_SWEEP_SECONDS),
    "arrival-sweep": ("chasing.arrival_sweep", CHASE_SWEEP_SECONDS),
    "relay-outbox": ("messaging.relay_outbox", OUTBOX_RELAY_SECONDS),
    "retry-webhook-deliveries": ("messaging.retry_webhook_deliveries", 60),
    "purge-idempotency-records": ("api.purge_idempotency_records", 3600),
    # Incidents whose background flagging was lost (incidents.flags.flag_pending).
    "incidents-flag-pending": ("incidents.flag_pending", 300),
    # Estimates whose flag recomputation was lost (monitoring.services.recompute_pending).
    "monitoring-recompute-pending": ("monitoring.recompute_pending", 300),
}
# Webhook endpoints must be public HTTPS addresses; a local demo may allow http:// and
# local hosts (never in production).
WEBHOOK_ALLOW_INSECURE_URLS = env_bool("WEBHOOK_ALLOW_INSECURE_URLS", False) and not PRODUCTION

# --- E-mail ---------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "PEN Portal <no-reply@pen-portal.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# One way to write a date for people, per language (web/formats/<lang>/formats.py):
# "16 December 2026", and "16 December 2026, 14:05 UTC" with the time. Django's own English
# formats ("Dec. 16, 2026") would otherwise win over DATE_FORMAT set here. ISO 8601 only
# for machines: <time datetime>, CSV, the API.
FORMAT_MODULE_PATH = ["web.formats"]

# --- Static and private files ---------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Attachments are government documents: stored outside any served folder and
    # streamed only through a view that checks visibility.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env("PRIVATE_MEDIA_ROOT", str(VAR_DIR / "private-media"))},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        ),
    },
}
ATTACHMENT_MAX_BYTES = int(env("ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))

# --- Security -------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_HTTPONLY = False
# A form refused for its security token (usually a page left open past the session) gets
# a page saying so and what to do, not Django's bare "403 Forbidden".
CSRF_FAILURE_VIEW = "pen_portal.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
