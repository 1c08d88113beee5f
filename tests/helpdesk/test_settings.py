"""Both settings modes, read in a fresh interpreter with exactly the given environment."""

import json
import os
import re
import stat
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789",
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "DATABASE_URL": "postgres://haven:secret@db:5432/haven",
    "KEYS_DATABASE_URL": "postgres://haven_keys:other@keys-db:5432/haven_keys",
    "REDIS_URL": "redis://redis:6379/0",
    "ALLOWED_HOSTS": "desk.example.org",
    "SITE_URL": "https://desk.example.org",
    "EMAIL_HOST": "smtp.example.org",
}

SHOW = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
keys = settings.DATABASES["keys"]
print(json.dumps({
    "debug": settings.DEBUG,
    "engine": db["ENGINE"], "name": str(db["NAME"]),
    "keys_engine": keys["ENGINE"], "keys_name": str(keys["NAME"]),
    "keys_user": keys.get("USER", ""),
    "cache": settings.CACHES["default"]["BACKEND"],
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "email": settings.EMAIL_BACKEND,
    "keys": settings.FIELD_ENCRYPTION_KEY,
    "secret": settings.SECRET_KEY,
    "ssl": getattr(settings, "SECURE_SSL_REDIRECT", False),
    "email_host": getattr(settings, "EMAIL_HOST", ""),
    "language_cookie_secure": settings.LANGUAGE_COOKIE_SECURE,
    "csrf_cookie_age": settings.CSRF_COOKIE_AGE,
}))
"""


def run(args: list[str], env: dict, tmp_path) -> subprocess.CompletedProcess:
    environment = {
        "PATH": os.environ["PATH"],
        "HAVEN_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        **env,
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def show(env: dict, tmp_path) -> dict:
    result = run(["-c", SHOW], env, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_no_environment_runs_the_embedded_default(tmp_path):
    values = show({}, tmp_path)
    assert values["debug"] is True
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(tmp_path / "var" / "haven.sqlite3")
    # The key store: a file of its own beside the main database.
    assert values["keys_engine"] == "django.db.backends.sqlite3"
    assert values["keys_name"] == str(tmp_path / "var" / "keys.sqlite3")
    assert values["cache"].endswith("DatabaseCache")  # shared by every process
    assert values["eager"] is True
    assert values["email"].endswith("filebased.EmailBackend")

    keys_file = tmp_path / "var" / "keys.json"
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    stored = json.loads(keys_file.read_text())
    assert values["keys"] == [stored["FIELD_ENCRYPTION_KEY"]]
    assert values["secret"] == stored["SECRET_KEY"]
    # The next start reads the same keys instead of making new ones.
    assert show({}, tmp_path)["keys"] == values["keys"]


def test_a_postgresql_database_without_a_key_store_url_gets_one_beside_it(tmp_path):
    values = show({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/haven"}, tmp_path)
    assert values["keys_engine"] == "django.db.backends.postgresql"
    assert values["keys_name"] == "haven_keys"


def test_keys_differ_between_installations(tmp_path):
    first = show({}, tmp_path / "one")
    second = show({"HAVEN_VAR_DIR": str(tmp_path / "two")}, tmp_path)
    assert first["keys"] != second["keys"]
    assert first["secret"] != second["secret"]


def test_production_reads_everything_from_the_environment(tmp_path):
    old = Fernet.generate_key().decode()
    values = show(
        {**PRODUCTION, "FIELD_ENCRYPTION_KEY": f"{PRODUCTION['FIELD_ENCRYPTION_KEY']},{old}"},
        tmp_path,
    )
    assert values["debug"] is False
    assert values["engine"] == "django.db.backends.postgresql"
    assert (values["keys_name"], values["keys_user"]) == ("haven_keys", "haven_keys")
    assert values["cache"].endswith("RedisCache")
    assert values["eager"] is False
    assert values["broker"] == "redis://redis:6379/0"
    assert values["email"].endswith("smtp.EmailBackend")
    assert values["email_host"] == "smtp.example.org"
    assert values["keys"] == [PRODUCTION["FIELD_ENCRYPTION_KEY"], old]
    assert values["ssl"] is True
    assert values["language_cookie_secure"] is True
    assert values["csrf_cookie_age"] is None  # gone when the browser closes
    assert not (tmp_path / "var" / "keys.json").exists()


@pytest.mark.parametrize(
    "name",
    [
        "SECRET_KEY",
        "FIELD_ENCRYPTION_KEY",
        "DATABASE_URL",
        "KEYS_DATABASE_URL",
        "REDIS_URL",
        "ALLOWED_HOSTS",
        "SITE_URL",
        "EMAIL_HOST",
    ],
)
def test_a_missing_production_variable_stops_start_up_by_name(name, tmp_path):
    env = {key: value for key, value in PRODUCTION.items() if key != name}
    result = run(["-c", SHOW], env, tmp_path)
    assert result.returncode != 0
    assert f"{name} is required when DEBUG=false" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SECRET_KEY", "short", "at least 50 random characters"),
        ("FIELD_ENCRYPTION_KEY", "not-a-key", "key 1 is not a Fernet key"),
        ("FIELD_ENCRYPTION_KEY", f"{Fernet.generate_key().decode()},nope", "key 2 is not"),
        ("DATABASE_URL", "mysql://db/haven", "DATABASE_URL must be a URL"),
        ("KEYS_DATABASE_URL", "sqlite:///keys", "KEYS_DATABASE_URL must be a URL"),
        (
            "KEYS_DATABASE_URL",
            "postgres://haven:secret@db:5432/haven",
            "KEYS_DATABASE_URL must name another database",
        ),
        ("REDIS_URL", "localhost:6379", "REDIS_URL must be a URL"),
        (
            "SITE_URL",
            "http://desk.example.org",
            "SITE_URL must be a URL starting with one of: https",
        ),
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("EMAIL_PORT", "smtp", "EMAIL_PORT must be a whole number"),
    ],
)
def test_a_malformed_variable_stops_start_up_clearly(name, value, message, tmp_path):
    result = run(["-c", SHOW], {**PRODUCTION, name: value}, tmp_path)
    assert result.returncode != 0
    assert message in result.stderr


def test_check_deploy_is_clean_in_production(tmp_path):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION, tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_env_example_names_every_variable_start_up_may_ask_for():
    # A missing or malformed variable stops start-up with "See .env.example": it must
    # be there, and so must every other variable settings.py reads.
    source = (settings.BASE_DIR / "helpdesk" / "settings.py").read_text()
    read = set(re.findall(r'(?:env_\w+|ENV\.get)\("([A-Z_]+)"', source))
    required = set(re.findall(r'env_required\("([A-Z_]+)"', source))
    assert required >= {"SECRET_KEY", "DATABASE_URL", "SITE_URL", "EMAIL_HOST"}
    example = (settings.BASE_DIR / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z_]+)=", example, flags=re.MULTILINE))
    assert read - documented == set()


def test_the_readme_warns_that_make_run_must_not_face_a_network():
    readme = (settings.BASE_DIR / "README.md").read_text()
    assert "must never face a network" in readme.partition("make run")[2][:800]
    assert "DEBUG" in readme and "127.0.0.1" in readme
