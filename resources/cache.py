"""What the library gives everyone alike, kept in this process's memory.

The library (needs, languages, guidance, organisations, templates) changes only when a
coordinator edits it or with a deploy, yet the public form, the receipts and the case
workspace read it on every request. `remember(key, build)` keeps what `build()` made
from it, so such a page needs no query for the library. Keep nothing in here that
belongs to one visitor or one case.

Freshness: any save or delete of a resources model sets a new random library version
in the shared cache, at once and again after commit (so a process that rebuilt from the
old rows between the two is corrected); an entry made under another version is made
again. Entries also expire after MAX_AGE, for writes that send no signal
(`QuerySet.update`, `bulk_create`). While the database is down, the last entry is served
whatever its age, so a page that can do without the database still renders.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from django.apps import apps
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

VERSION_KEY = "resources:library-version"
MAX_AGE = 600
MAX_ENTRIES = 512

T = TypeVar("T")

# The version is asked of the shared cache at most once every VERSION_CHECK_SECONDS
# per process, not on every request: that round trip to Redis was a third of the
# intake form's time under load. Another process's change is seen within that time; a
# change made in this process at once.
VERSION_CHECK_SECONDS = 2.0

_entries: OrderedDict[Hashable, tuple[str | None, float, object]] = OrderedDict()
_lock = threading.Lock()
_known: tuple[object, float] | None = None  # (version, when it was read)
UNKNOWN = object()  # the cache holding the version cannot be read


def version() -> str | None:
    global _known
    known, now = _known, time.monotonic()
    if known is not None and now - known[1] < VERSION_CHECK_SECONDS:
        return known[0]
    current = _read_version()
    _known = (current, now)
    return current


def forget_version() -> None:
    """Ask the shared cache again at the next use (tests, whose database rolls back)."""
    global _known
    _known = None


def _read_version():
    try:
        return cache.get(VERSION_KEY)
    except DatabaseError:  # the embedded default keeps its cache in the database
        return UNKNOWN


def remember(key: Hashable, build: Callable[[], T]) -> T:
    """The entry for `key`, made with `build()` if missing, stale or of another version."""
    current = version()
    entry = _entries.get(key)
    if entry is not None and (
        current is UNKNOWN or (entry[0] == current and time.monotonic() - entry[1] < MAX_AGE)
    ):
        with _lock:
            if key in _entries:
                _entries.move_to_end(key)
        return entry[2]
    try:
        value = build()
    except DatabaseError:
        if entry is None:
            raise
        return entry[2]  # the database is away: the last known library beats no page
    if current is not UNKNOWN:
        with _lock:
            _entries[key] = (current, time.monotonic(), value)
            _entries.move_to_end(key)
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
    return value


def clear() -> None:
    """Forget every entry (a process that must not trust what it kept; tests)."""
    with _lock:
        _entries.clear()


def library_changed(sender, **kwargs) -> None:
    # Models of a migration's state are not the app's (a deploy restarts processes anyway).
    if sender._meta.app_label != "resources" or sender._meta.apps is not apps:
        return
    _new_version()
    transaction.on_commit(_new_version)


def _new_version() -> None:
    global _known
    token = secrets.token_hex(8)
    cache.set(VERSION_KEY, token, timeout=None)
    _known = (token, time.monotonic())


def connect() -> None:
    """Called once by the resources app; safe to call again."""
    for signal in (post_save, post_delete, m2m_changed):
        signal.connect(library_changed, dispatch_uid=f"resources.cache.{signal!r}")
