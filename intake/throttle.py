"""Limits on failed receipt attempts: per visitor (a short-lived keyed hash of the
address, held in the cache only) and for the whole site, so that guessing receipts from
many addresses is slow too."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from helpdesk.addresses import address_fingerprint


def _keys(request: HttpRequest) -> list[tuple[str, int]]:
    fingerprint = address_fingerprint(request, purpose="receipt")
    return [
        (f"intake:receipt-failures:{fingerprint}", settings.RECEIPT_FAILURES_PER_ADDRESS),
        ("intake:receipt-failures:all", settings.RECEIPT_FAILURES_TOTAL),
    ]


def is_blocked(request: HttpRequest) -> bool:
    counts = cache.get_many([key for key, _ in _keys(request)])
    return any(counts.get(key, 0) >= limit for key, limit in _keys(request))


def record_failure(request: HttpRequest) -> None:
    window = settings.RECEIPT_FAILURE_WINDOW_SECONDS
    for key, _ in _keys(request):
        # add() starts the window; incr() counts within it without resetting it.
        if not cache.add(key, 1, timeout=window):
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.add(key, 1, timeout=window)
