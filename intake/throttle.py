"""Failed receipt look-ups slow the address they come from; they never refuse anyone.

A receipt carries 120 bits (100 for those made before): guessing one is hopeless at any
rate, so a limit exists only to slow a flood, never to keep a person out of their inbox
because of what strangers did from the same address (one mobile carrier, one café's
Wi-Fi, one Tor exit).

Failures are counted per visitor (a short-lived keyed hash of the address, held in the
cache only) and for the whole site, with atomic increments (cache.add starts a window,
cache.incr counts within it). Once an address has failed RECEIPT_FAILURES_PER_ADDRESS
times in the window, or at all while the whole site has seen RECEIPT_FAILURES_TOTAL
failures, each look-up from it waits before its code
is checked: a quarter of a second, doubling with each further failure, never more than
RECEIPT_FAILURE_DELAY_MAX_SECONDS. The wait comes before the check and applies to every
code, right or wrong, so that hanging up early tells a guesser nothing; a person who
shares the address waits a few seconds at most, then their receipt opens their inbox.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from helpdesk.addresses import address_fingerprint

FIRST_DELAY_SECONDS = 0.25
TOTAL_KEY = "intake:receipt-failures:all"


def _own_key(request: HttpRequest) -> str:
    return f"intake:receipt-failures:{address_fingerprint(request, purpose='receipt')}"


def delay(request: HttpRequest) -> float:
    """How long a look-up from this visitor waits before its code is checked."""
    own_key = _own_key(request)
    counts = cache.get_many([own_key, TOTAL_KEY])
    own = counts.get(own_key, 0)
    flood = counts.get(TOTAL_KEY, 0) >= settings.RECEIPT_FAILURES_TOTAL
    excess = own if flood else own - settings.RECEIPT_FAILURES_PER_ADDRESS + 1
    if excess <= 0:
        return 0.0
    return min(
        settings.RECEIPT_FAILURE_DELAY_MAX_SECONDS,
        FIRST_DELAY_SECONDS * 2 ** min(excess - 1, 16),
    )


def wait(request: HttpRequest) -> None:
    seconds = delay(request)
    if seconds > 0:
        time.sleep(seconds)


def record_failure(request: HttpRequest) -> None:
    window = settings.RECEIPT_FAILURE_WINDOW_SECONDS
    for key in (_own_key(request), TOTAL_KEY):
        # add() starts the window; incr() counts within it without resetting it.
        if not cache.add(key, 1, timeout=window):
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.add(key, 1, timeout=window)
