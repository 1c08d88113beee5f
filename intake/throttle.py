"""Limits on failed receipt attempts: per visitor (a short-lived keyed hash of the
address, held in the cache only) and for the whole site, so that guessing receipts from
many addresses is slow too: see is_blocked()."""

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
    """Blocked after too many failures from this address; and while guesses flood in
    from many addresses at once, after the first failure of any address. A visitor
    whose address has not failed is never blocked by others: otherwise anyone with a
    hundred addresses could keep every person out of their inbox. (Guessing a 100-bit
    receipt one try per address stays hopeless.)"""
    (own_key, own_limit), (total_key, total_limit) = _keys(request)
    counts = cache.get_many([own_key, total_key])
    own = counts.get(own_key, 0)
    return own >= own_limit or (own > 0 and counts.get(total_key, 0) >= total_limit)


def record_failure(request: HttpRequest) -> None:
    window = settings.RECEIPT_FAILURE_WINDOW_SECONDS
    for key, _ in _keys(request):
        # add() starts the window; incr() counts within it without resetting it.
        if not cache.add(key, 1, timeout=window):
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.add(key, 1, timeout=window)
