"""Haven's only settings module: every environment read happens here.

With no environment at all Haven runs in its embedded default (SQLite under var/,
Celery eager, a database cache, mail written to var/mail/). With DEBUG=false it is
production: every required variable must be present and well formed, or start-up
stops with a message that names the variable.
"""

import json
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
ENV = os.environ


def env_bool(name: str, default: bool) -> bool:
    raw = ENV.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = ENV.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = ENV.get(name)
    if raw is None or raw.strip() == "":
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_required(name: str) -> str:
    value = ENV.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} is required when DEBUG=false. See .env.example for what it means."
        )
    return value


def validate_secret_key(value: str) -> str:
    # The same thresholds as Django's security.W009, so `check --deploy` agrees.
    if len(value) < 50 or len(set(value)) < 5 or value.startswith("django-insecure-"):
        raise ImproperlyConfigured(
            "SECRET_KEY must be at least 50 random characters (for example "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`)."
        )
    return value


def validate_fernet_keys(name: str, keys: list[str]) -> list[str]:
    if not keys:
        raise ImproperlyConfigured(f"{name} must hold at least one key.")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"{name}: key {position} is not a Fernet key (32 url-safe base64-encoded "
                "bytes; make one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)."
            ) from None
    return keys


def validate_url(name: str, value: str, schemes: set[str]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        allowed = ", ".join(sorted(schemes))
        raise ImproperlyConfigured(f"{name} must be a URL starting with one of: {allowed}.")
    return value.rstrip("/")


def keys_database_beside(url: str) -> str:
    """The URL of a database named like `url`'s with "_keys" appended, on its server."""
    parts = urlsplit(url)
    return parts._replace(path=parts.path.rstrip("/") + "_keys").geturl()


def local_keys(path: Path) -> dict[str, str]:
    """Keys of the embedded default: made on first run, kept in a 0600 file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return json.loads(path.read_text())
    keys = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    with os.fdopen(fd, "w") as handle:
        json.dump(keys, handle)
    return keys


DEBUG = env_bool("DEBUG", True)
PRODUCTION = not DEBUG
VAR_DIR = Path(ENV.get("HAVEN_VAR_DIR", "") or BASE_DIR / "var")

if PRODUCTION:
    SECRET_KEY = validate_secret_key(env_required("SECRET_KEY"))
    env_required("FIELD_ENCRYPTION_KEY")
    FIELD_ENCRYPTION_KEY = validate_fernet_keys(
        "FIELD_ENCRYPTION_KEY", env_list("FIELD_ENCRYPTION_KEY")
    )
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        env_required("ALLOWED_HOSTS")
    DATABASE_URL = validate_url(
        "DATABASE_URL", env_required("DATABASE_URL"), {"postgres", "postgresql"}
    )
    # The key store (keystore/): a database of its own, with its own role and a short
    # backup window, never a copy of DATABASE_URL's.
    KEYS_DATABASE_URL = validate_url(
        "KEYS_DATABASE_URL", env_required("KEYS_DATABASE_URL"), {"postgres", "postgresql"}
    )
    if KEYS_DATABASE_URL == DATABASE_URL:
        raise ImproperlyConfigured(
            "KEYS_DATABASE_URL must name another database than DATABASE_URL: the keys "
            "are kept apart from the data they unlock."
        )
    REDIS_URL = validate_url("REDIS_URL", env_required("REDIS_URL"), {"redis", "rediss"})
    SITE_URL = validate_url("SITE_URL", env_required("SITE_URL"), {"https"})
else:
    _keys = local_keys(VAR_DIR / "keys.json")
    SECRET_KEY = ENV.get("SECRET_KEY") or _keys["SECRET_KEY"]
    FIELD_ENCRYPTION_KEY = validate_fernet_keys(
        "FIELD_ENCRYPTION_KEY",
        env_list("FIELD_ENCRYPTION_KEY", [_keys["FIELD_ENCRYPTION_KEY"]]),
    )
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
    DATABASE_URL = ENV.get("DATABASE_URL", "").strip()
    # Without it, a PostgreSQL DATABASE_URL's key store is the database of the same name
    # with "_keys" appended, on the same server (tests and CI); SQLite's is a file of its
    # own beside the main one.
    KEYS_DATABASE_URL = ENV.get("KEYS_DATABASE_URL", "").strip() or (
        keys_database_beside(DATABASE_URL) if DATABASE_URL else ""
    )
    REDIS_URL = ENV.get("REDIS_URL", "").strip()
    SITE_URL = ENV.get("SITE_URL", "").strip().rstrip("/") or "http://127.0.0.1:8000"

INSTALLED_APPS = [
    "intake",
    "helpdesk",
    "resources",
    "keystore",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "simple_history",
    "django_countries",
]

MIDDLEWARE = [
    "helpdesk.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # NUL characters and ids beyond 64 bits get a 400 here (helpdesk/edge.py)
    "helpdesk.edge.HostileInputMiddleware",
    "helpdesk.csrf.NoReferrerCsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A calm "try again in a minute" page (503) while the database is away.
    "intake.outage.DatabaseOutageMiddleware",
    # no-store on staff responses, Clear-Site-Data when a session ends (helpdesk/headers.py)
    "helpdesk.headers.PrivacyHeadersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "helpdesk.sessions.StaffSessionTimeoutMiddleware",
    "helpdesk.mfa.RequireMFAMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
]

if PRODUCTION:
    # gunicorn serves the collected static files itself; the dev server does in DEBUG.
    MIDDLEWARE.insert(2, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"

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
                "helpdesk.context_processors.site",
            ],
        },
    },
]

if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60)
        )
    }
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # PostgreSQL's JIT compiles a big query before running it; for the reports over
        # a large desk that compiling cost more than it saved (~480 ms of 1.5 s).
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "haven.sqlite3",
            "OPTIONS": {
                # WAL lets the dev server and a management command work side by side.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
if KEYS_DATABASE_URL:
    DATABASES["keys"] = dj_database_url.parse(
        KEYS_DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60)
    )
    DATABASES["keys"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES["keys"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "keys.sqlite3",
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        },
    }
# Data keys (one per case) live in the "keys" database and nothing else does there.
DATABASE_ROUTERS = ["keystore.router.KeyStoreRouter"]
# How long backups of the key store are kept (docs/deployment: its own, short window).
# Once a case is destroyed, no copy anywhere can read it after this many days; the
# public page on deletion says so.
KEY_STORE_BACKUP_DAYS = env_int("KEY_STORE_BACKUP_DAYS", 7, minimum=1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Rate limits must be counted in one place for every process, so the embedded
# default uses the database cache (shared by the dev server, commands and workers)
# rather than a per-process LocMemCache.
if REDIS_URL:
    CACHES = {
        "default": {
            # Falls back to this process's memory while Redis is away (helpdesk/cache.py);
            # the timeouts make an unreachable Redis cost a second, not a request.
            "BACKEND": "helpdesk.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "haven",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "haven_cache",
        }
    }

AUTH_USER_MODEL = "helpdesk.User"
AUTHENTICATION_BACKENDS = [
    "helpdesk.backends.RoleBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "desk"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: email + password, no public sign-up (see helpdesk/accounts.py).
ACCOUNT_ADAPTER = "helpdesk.accounts.AccountAdapter"
ACCOUNT_FORMS = {"login": "helpdesk.forms.StaffLoginForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_NOTIFICATIONS = False
# A reset asked for an address without an account sends nothing: otherwise anyone could
# make the desk write to a mailbox someone else watches.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_RATE_LIMITS = {
    # per address (a keyed hash of it, see helpdesk/addresses.py) and per account
    "login_failed": ENV.get("LOGIN_FAILED_RATE_LIMIT", "") or "10/10m/ip,5/15m/key",
    "login": "30/m/ip",
    "reset_password": "5/h/ip,3/h/key",
    "reset_password_from_key": "20/m/ip",
    "reauthenticate": "10/10m/user",
}
MFA_ADAPTER = "helpdesk.mfa.MFAAdapter"
MFA_FORMS = {
    "authenticate": "helpdesk.forms.MFAAuthenticateForm",
    "reauthenticate": "helpdesk.forms.MFAReauthenticateForm",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = ENV.get("SITE_NAME", "") or "Haven"
MFA_RECOVERY_CODE_COUNT = 10
# Accept the code of the 30-second step before and after the current one: phones drift,
# and a code typed as the step turns must not fail. A used code is refused for all that
# time, and longer: no code of a step already used counts again (helpdesk/mfa.py).
MFA_TOTP_TOLERANCE = 1

# The anonymous side.
RECEIPT_FAILURES_PER_ADDRESS = env_int("RECEIPT_FAILURES_PER_ADDRESS", 10, minimum=1)
RECEIPT_FAILURE_WINDOW_SECONDS = env_int("RECEIPT_FAILURE_WINDOW_SECONDS", 15 * 60, minimum=60)
# Past those failures a look-up waits before it is checked, never refused (intake/throttle.py).
RECEIPT_FAILURE_DELAY_MAX_SECONDS = env_int("RECEIPT_FAILURE_DELAY_MAX_SECONDS", 3, minimum=0)
INBOX_IDLE_SECONDS = env_int("INBOX_IDLE_SECONDS", 20 * 60, minimum=60)
CASE_RETENTION_DAYS = env_int("CASE_RETENTION_DAYS", 90, minimum=1)
SUBMITTER_ABSENCE_DAYS = env_int("SUBMITTER_ABSENCE_DAYS", 180, minimum=7)
MESSAGE_MAX_CHARS = 10_000
FIRST_RESPONSE_HOURS_URGENT = env_int("FIRST_RESPONSE_HOURS_URGENT", 2, minimum=1)
FIRST_RESPONSE_HOURS = env_int("FIRST_RESPONSE_HOURS", 48, minimum=1)
ASSIGNMENT_OPEN_HOURS = env_int("ASSIGNMENT_OPEN_HOURS", 24, minimum=1)
# An assignment notice still unsent this long after the assignment (its task was lost
# with the broker, or failed) is queued again by the routing sweep.
ASSIGNMENT_NOTICE_GRACE_SECONDS = 60

# A reviewed piece of guidance is due for its next review this many days later.
GUIDANCE_REVIEW_INTERVAL_DAYS = env_int("GUIDANCE_REVIEW_INTERVAL_DAYS", 180, minimum=7)

INVITATION_MAX_AGE_HOURS = env_int("INVITATION_MAX_AGE_HOURS", 72, minimum=1)

# Partners answering referrals through their link (helpdesk/partners.py): a link works
# until it has gone this many days unused; an organisation that states no time to a
# first answer is expected within PARTNER_ANSWER_DAYS (reminded once past it, stalled
# past twice it); each address may open partner pages this often in the window.
PARTNER_LINK_IDLE_DAYS = env_int("PARTNER_LINK_IDLE_DAYS", 30, minimum=1)
PARTNER_ANSWER_DAYS = env_int("PARTNER_ANSWER_DAYS", 7, minimum=1)
PARTNER_PAGE_REQUESTS_PER_ADDRESS = env_int("PARTNER_PAGE_REQUESTS_PER_ADDRESS", 60, minimum=1)
PARTNER_PAGE_WINDOW_SECONDS = env_int("PARTNER_PAGE_WINDOW_SECONDS", 15 * 60, minimum=60)
STAFF_SESSION_IDLE_SECONDS = env_int("STAFF_SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
STAFF_SESSION_MAX_SECONDS = env_int("STAFF_SESSION_MAX_SECONDS", 12 * 3600, minimum=60)
SESSION_COOKIE_AGE = STAFF_SESSION_MAX_SECONDS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Cookies a visitor's browser keeps: none outlives the visit. The CSRF cookie would
# otherwise last a year from the first page (a trace on a device someone may inspect);
# the language cookie is a session cookie by default, and no script needs either.
CSRF_COOKIE_AGE = None
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = PRODUCTION  # production is served over HTTPS only

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("nl", "Nederlands"),
    ("fr", "Français"),
    ("ar", "العربية"),
    ("fa", "فارسی"),
    ("ru", "Русский"),
    ("es", "Español"),
    ("tr", "Türkçe"),
]
LANGUAGES_BIDI = ["ar", "fa", "he", "ur"]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

SITE_NAME = ENV.get("SITE_NAME", "") or "Haven"
QUICK_EXIT_URL = validate_url(
    "QUICK_EXIT_URL", ENV.get("QUICK_EXIT_URL", "") or "https://www.wikipedia.org", {"https"}
)

# Email: SMTP in production, files under var/mail/ in the embedded default.
DEFAULT_FROM_EMAIL = ENV.get("DEFAULT_FROM_EMAIL", "") or "Haven <desk@localhost>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if PRODUCTION:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_required("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = ENV.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = ENV.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = 20
elif ENV.get("EMAIL_BACKEND", "") == "console":
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# Celery: eager in the embedded default, a Redis broker in production.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"  # a host: kombu warns without one
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A submission must not hang while Redis is away: publishing gives up quickly and the
# routing sweep (every minute) picks the case up instead.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULE = {
    "sweep-routing": {"task": "helpdesk.tasks.sweep_routing", "schedule": 60.0},
    "escalate-overdue": {"task": "helpdesk.tasks.escalate_overdue", "schedule": 300.0},
    "reclaim-unopened": {"task": "helpdesk.tasks.reclaim_unopened", "schedule": 600.0},
    "purge-expired-cases": {"task": "helpdesk.tasks.purge_expired_cases", "schedule": 3600.0},
    "sweep-unused-keys": {"task": "helpdesk.tasks.sweep_unused_keys", "schedule": 3600.0},
    "remind-referral-follow-ups": {
        "task": "helpdesk.tasks.remind_referral_follow_ups",
        "schedule": 3600.0,
    },
    "purge-expired-invitations": {
        "task": "helpdesk.tasks.purge_expired_invitations",
        "schedule": 3600.0,
    },
    "chase-partners": {"task": "helpdesk.tasks.chase_partners", "schedule": 3600.0},
    "announce-overdue-guidance": {
        "task": "helpdesk.tasks.announce_overdue_guidance",
        "schedule": 3600.0,
    },
    # The reports' rollups of the days changed since (each report also does this
    # before it reads, so it never shows figures older than its request).
    "refresh-rollups": {"task": "helpdesk.tasks.refresh_rollups", "schedule": 60.0},
}

# Security headers. A strict policy everywhere: nothing from another origin, no inline
# script, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [NONE],
    }
}
# Every powerful browser feature denied to every origin (helpdesk/headers.py): no page
# needs one. The one exception: "Copy the code" on the receipt page writes the receipt
# to the clipboard, on this site only.
PERMISSIONS_POLICY = {
    **dict.fromkeys(
        [
            "accelerometer", "ambient-light-sensor", "autoplay", "bluetooth", "browsing-topics",
            "camera", "clipboard-read", "display-capture", "encrypted-media", "fullscreen",
            "gamepad", "geolocation", "gyroscope", "hid", "identity-credentials-get",
            "idle-detection", "local-fonts", "magnetometer", "microphone", "midi",
            "otp-credentials", "payment", "picture-in-picture", "publickey-credentials-create",
            "publickey-credentials-get", "screen-wake-lock", "serial", "storage-access", "usb",
            "web-share", "window-management", "xr-spatial-tracking",
        ],
        "()",
    ),
    "clipboard-write": "(self)",
}  # fmt: skip
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "intake.views.csrf_failure"
# security.W003 looks for Django's CsrfViewMiddleware by its exact path; Haven runs a
# subclass of it (helpdesk/csrf.py, tested in tests/helpdesk/test_csrf.py).
SILENCED_SYSTEM_CHECKS = ["security.W003"]
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The report indexes carry extra columns (INCLUDE) so PostgreSQL answers from the
    # index alone; SQLite ignores them and says so (models.W040). Harmless here.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    CSRF_TRUSTED_ORIGINS = [SITE_URL]

# Logs never carry addresses, user agents or case content: the request object is
# dropped from every record before it is formatted, and the tokens of mailed links
# (a partner's, an invitation's) are cut out of any path a record names.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "no_request": {"()": "helpdesk.logs.DropRequestFilter"},
        "no_link_tokens": {"()": "helpdesk.logs.RedactLinkTokensFilter"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_request", "no_link_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": ENV.get("LOG_LEVEL", "") or "INFO"},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # The development server's request lines, through the same filters.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
