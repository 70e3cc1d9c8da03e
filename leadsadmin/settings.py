"""Settings, all from the environment (and an optional `.env` file beside manage.py).

Every variable is documented in `.env.example`. A malformed value stops start-up
with an ImproperlyConfigured error that names the variable.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _read(name, cast, default):
    try:
        return cast(name, default=default)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name} is malformed: {exc}") from None


def _bool(name, default):
    raw = env.str(name, default=None)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be True or False, got {raw!r}")


def _int_at_least(name, default, minimum):
    value = _read(name, env.int, default)
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be {minimum} or more, got {value}")
    return value


DEBUG = _bool("DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is False")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = _read("ALLOWED_HOSTS", env.list, ["127.0.0.1", "localhost", "[::1]"])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is False")

VAR_DIR.mkdir(exist_ok=True)
_db_url = env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'leadsadmin.sqlite3'}")
try:
    _db = environ.Env.db_url_config(_db_url)
except Exception as exc:  # django-environ raises several types for a bad URL
    raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from None
_KNOWN_ENGINES = ("django.db.backends.sqlite3", "django.db.backends.postgresql")
if _db.get("ENGINE") not in _KNOWN_ENGINES:
    raise ImproperlyConfigured(
        f"DATABASE_URL must be sqlite:/// or postgres://, got {_db_url.split(':', 1)[0]}:"
    )
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and immediate transactions: the dashboard and the sandbox write from
    # different threads of one server, and readers must not block writers.
    _db.setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    # One file per concurrent test run when TEST_DATABASE_NAME says so.
    _db["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default=str(VAR_DIR / "test.sqlite3"))}
else:
    _db["CONN_MAX_AGE"] = _read("CONN_MAX_AGE", env.int, 60)
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}

# The leads API. Unset LEADS_API_URL means: use this project's own sandbox.
LEADS_API_URL = env.str("LEADS_API_URL", default="").rstrip("/")
if LEADS_API_URL:
    _parts = urlsplit(LEADS_API_URL)
    if _parts.scheme not in ("http", "https") or not _parts.netloc:
        raise ImproperlyConfigured("LEADS_API_URL must be an http(s) URL such as https://host/api")
LEADS_API_KEY = env.str("LEADS_API_KEY", default="")
if LEADS_API_URL and not LEADS_API_KEY:
    raise ImproperlyConfigured("LEADS_API_KEY must be set when LEADS_API_URL is set")
LEADS_API_TIMEOUT = _read("LEADS_API_TIMEOUT", env.float, 30.0)
if LEADS_API_TIMEOUT <= 0:
    raise ImproperlyConfigured("LEADS_API_TIMEOUT must be a positive number of seconds")
# A shared limit on calls to the leads API (0: none), counted in the cache below.
LEADS_API_MAX_CONCURRENT = _int_at_least("LEADS_API_MAX_CONCURRENT", 0, 0)
LEADS_API_MAX_PER_SECOND = _int_at_least("LEADS_API_MAX_PER_SECOND", 0, 0)
# Django's cache. redis://HOST:6379/DB shares the API limits between processes and
# machines; the default, local memory, only between the threads of one process.
try:
    _cache_url = env.str("CACHE_URL", default="") or "locmemcache://"
    CACHES = {"default": environ.Env.cache_url_config(_cache_url)}
except Exception as exc:  # django-environ raises several types for a bad URL
    raise ImproperlyConfigured(f"CACHE_URL is malformed: {exc}") from None
SANDBOX_ENABLED = _bool("SANDBOX_ENABLED", not LEADS_API_URL)
if SANDBOX_ENABLED and not DEBUG and env.str("SANDBOX_ENABLED", default="").lower() != "true":
    # A production server must not quietly serve made-up leads behind an open API.
    raise ImproperlyConfigured(
        "With DEBUG=False set LEADS_API_URL and LEADS_API_KEY (the real API), "
        "or SANDBOX_ENABLED=True to serve the sandbox on purpose"
    )
# Where the dashboard finds its own sandbox when LEADS_API_URL is unset.
SANDBOX_SELF_URL = env.str("SANDBOX_SELF_URL", default="http://127.0.0.1:8000").rstrip("/")
# Refusals of hostile input (leadsadmin/sandbox/limits.py): a larger body answers 413,
# a larger `limit` on a find 400.
SANDBOX_MAX_BODY_BYTES = _read("SANDBOX_MAX_BODY_BYTES", env.int, 2 * 1024 * 1024)
SANDBOX_MAX_LIMIT = _read("SANDBOX_MAX_LIMIT", env.int, 1000)

# Bulk edits.
BULK_CONFIRM_THRESHOLD = _read("BULK_CONFIRM_THRESHOLD", env.int, 500)
BULK_CHUNK_SIZE = _read("BULK_CHUNK_SIZE", env.int, 100)
# Chunks of one bulk operation sent at once (each waits for a turn under the limits above).
BULK_CONCURRENCY = _int_at_least("BULK_CONCURRENCY", 1, 1)
# Pages a review (or a revert's review) reads from the API at once. More is faster only
# where the API has capacity to spare: on a machine that also serves the API, three
# readers made the previews of other people wait (bench/bench_load.py, docs/benchmarks.md).
BULK_REVIEW_READERS = _int_at_least("BULK_REVIEW_READERS", 1, 1)
BULK_MAX_OPERATION_SIZE = _read("BULK_MAX_OPERATION_SIZE", env.int, 10_000)
# Four eyes: a bulk edit of more leads than this needs another team lead's approval.
BULK_APPROVAL_THRESHOLD = _read("BULK_APPROVAL_THRESHOLD", env.int, 1000)
BULK_APPROVAL_EXEMPT_SUPERUSERS = _bool("BULK_APPROVAL_EXEMPT_SUPERUSERS", True)

# Bulk edits run as django.tasks jobs in `manage.py bulk_worker`. TASKS_BACKEND:
# db (django-tasks-db, the default: the queue is a table of the database) or rq
# (django-tasks-rq: the queue lives in Redis at REDIS_URL). The backends' dotted
# paths are accepted too, as earlier versions wanted them.
_TASK_BACKENDS = {"db": "django_tasks_db.DatabaseBackend", "rq": "django_tasks_rq.RQBackend"}
_tasks_backend = env.str("TASKS_BACKEND", default="db").strip()
TASKS_BACKEND = {path: name for name, path in _TASK_BACKENDS.items()}.get(
    _tasks_backend, _tasks_backend
)
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be db or rq, got {_tasks_backend!r}")
# The queue the web enqueues on and the workers take from; one name per deployment.
TASKS_QUEUE = env.str("TASKS_QUEUE", default="default")
if not 0 < len(TASKS_QUEUE) <= 32:
    raise ImproperlyConfigured("TASKS_QUEUE must be a name of 1 to 32 characters")
TASKS = {
    "default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND], "QUEUES": [TASKS_QUEUE]},
}
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
if urlsplit(REDIS_URL).scheme not in ("redis", "rediss", "unix"):
    # The URL may hold a password: never repeat it.
    raise ImproperlyConfigured("REDIS_URL must be a redis://, rediss:// or unix:// URL")
# django-rq's queue; a job runs as long as it takes (a bulk edit may take many minutes).
RQ_QUEUES = {TASKS_QUEUE: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": -1}}
# bulk_worker: each worker writes a beat every BULK_WORKER_BEAT_SECONDS; one whose
# last beat is older than BULK_WORKER_DEAD_AFTER seconds is dead, and any worker
# hands its operations to a new run.
BULK_WORKER_BEAT_SECONDS = _read("BULK_WORKER_BEAT_SECONDS", env.float, 5.0)
BULK_WORKER_DEAD_AFTER = _read("BULK_WORKER_DEAD_AFTER", env.float, 3 * BULK_WORKER_BEAT_SECONDS)
if not 0 < BULK_WORKER_BEAT_SECONDS < BULK_WORKER_DEAD_AFTER:
    raise ImproperlyConfigured(
        "BULK_WORKER_BEAT_SECONDS must be positive and less than BULK_WORKER_DEAD_AFTER"
    )

# Email (proposals tell their proposer the outcome): EMAIL_URL as django-environ
# reads it; by default the console in development and an SMTP server on this
# machine in production (check --deploy warns about a console there). Set as
# Django 6.1's MAILERS, which replaces the EMAIL_* settings.
try:
    _email = env.email_url(
        "EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"
    )
except ImproperlyConfigured as exc:  # django-environ's message does not name the variable
    raise ImproperlyConfigured(f"EMAIL_URL is malformed: {exc}") from None
_EMAIL_OPTIONS = {
    "EMAIL_HOST": "host",
    "EMAIL_PORT": "port",
    "EMAIL_HOST_USER": "username",
    "EMAIL_HOST_PASSWORD": "password",
    "EMAIL_USE_TLS": "use_tls",
    "EMAIL_USE_SSL": "use_ssl",
}
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": {
            option: _email[name]
            for name, option in _EMAIL_OPTIONS.items()
            if _email.get(name) is not None
        },
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Leads Admin <leads-admin@localhost>")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    # `manage.py rqworker` and the RQ backend's checks need django-rq only with TASKS_BACKEND=rq.
    *(["django_rq"] if TASKS_BACKEND == "rq" else []),
    "axes",
    "leadsadmin.core",
    "leadsadmin.leads",
    "leadsadmin.sandbox",
    "leadsadmin.bulk",
    "leadsadmin.audit",
    "leadsadmin.proposals",
    "leadsadmin.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "leadsadmin.core.middleware.UserTimeZoneMiddleware",
    "leadsadmin.audit.middleware.RefusedAccessAuditMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leadsadmin.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "leadsadmin.proposals.context_processors.proposals",
            ],
        },
    },
]

WSGI_APPLICATION = "leadsadmin.wsgi.application"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for
# one user name from one address, that pair is locked out for AXES_COOLOFF_MINUTES.
# The count lives in the database, so every app server shares it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = _read("AXES_FAILURE_LIMIT", env.int, 5)
AXES_COOLOFF_TIME = timedelta(minutes=_read("AXES_COOLOFF_MINUTES", env.int, 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default="") or VAR_DIR / "staticfiles")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing one
# Development serves straight from the source folders, fresh on every request.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# whitenoise serves the static files from every app server. In production (DEBUG
# off) `collectstatic` writes compressed, content-hashed copies to STATIC_ROOT,
# cached by browsers for a year; in development they are served as they are.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# Content-Security-Policy: no inline script or style runs without the nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = _read("SECURE_HSTS_SECONDS", env.int, 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# LOG_FORMAT=json writes one JSON object per line (time, level, logger, message
# and any extra fields), for a log collector; plain is for people.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "filters": {
        "refusal_without_traceback": {"()": "leadsadmin.core.logs.RefusalWithoutTraceback"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "loggers": {
        "leadsadmin": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
        # A 403 for a role without access is one line, not a traceback.
        "django.request": {"filters": ["refusal_without_traceback"]},
    },
}
