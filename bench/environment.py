"""The environment the benchmark runs Haven in: production settings (DEBUG=false) with
throwaway secrets, a dedicated PostgreSQL database and Redis database, all on
127.0.0.1. The keys are made once and kept in var/bench-keys.json, so a seeded
database stays readable by later runs."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
KEYS = ROOT / "var" / "bench-keys.json"
# Two people benchmarking on one machine each set their own (BENCH_DATABASE=haven_bench_b
# BENCH_REDIS_URL=redis://127.0.0.1:6379/13), so neither drops the other's data.
DATABASE = os.environ.get("BENCH_DATABASE", "haven_bench")
KEYS_DATABASE = f"{DATABASE}_keys"  # the key store: one data key per case
PG = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def keys() -> dict[str, str]:
    if not KEYS.exists():
        KEYS.parent.mkdir(parents=True, exist_ok=True)
        KEYS.write_text(
            json.dumps(
                {
                    "SECRET_KEY": secrets.token_urlsafe(50),
                    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                }
            )
        )
        KEYS.chmod(0o600)
    return json.loads(KEYS.read_text())


def bench_environment() -> dict[str, str]:
    return {
        **os.environ,
        **keys(),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "DATABASE_URL": f"{PG}/{DATABASE}",
        "KEYS_DATABASE_URL": f"{PG}/{KEYS_DATABASE}",
        "REDIS_URL": REDIS_URL,
        "SITE_URL": "https://bench.local",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "EMAIL_HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def migrate() -> None:
    """Both databases, the key store first (as `make migrate` does)."""
    from django.core.management import call_command

    call_command("migrate", database="keys", verbosity=0, interactive=False)
    call_command("migrate", verbosity=0, interactive=False)


def apply() -> None:
    """For a script about to call django.setup() in this process."""
    os.environ.update(bench_environment())


def gunicorn_command(port: int) -> list[str]:
    """Haven as production serves it (the project's gunicorn.conf.py: no access log), on
    127.0.0.1 only, with the 2 sync workers every benchmark here assumes."""
    return [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "helpdesk.wsgi",
        "--config", str(ROOT / "gunicorn.conf.py"),
        "--bind", f"127.0.0.1:{port}",
        "--workers", "2",
        "--worker-class", "sync",
        "--log-level", "warning",
    ]  # fmt: skip
