"""Haven's production settings, plus one benchmark-only URL (bench/urls.py).

Only the benchmark uses this module; the app's settings and URLs stay untouched."""

from helpdesk.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
