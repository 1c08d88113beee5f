"""Failed receipt look-ups slow the address they come from; they never refuse anyone.
(Partner pages have a plain limit per address: `partner_page_allowed`, at the end.)

A receipt carries 120 bits (100 for those made before): guessing one is hopeless at any
rate, so a limit exists only to slow a flood, never to keep a person out of their inbox
because of what strangers did from the same address (one mobile carrier, one café's
Wi-Fi, one Tor exit).

Failures are counted per visitor (a short-lived keyed hash of the address, held in the
cache only) with atomic increments: cache.add starts a window, cache.incr counts within
it. Once an address has failed RECEIPT_FAILURES_PER_ADDRESS times in the window, each
look-up from it waits before its code is checked: a quarter of a second, doubling with
each further failure, never more than RECEIPT_FAILURE_DELAY_MAX_SECONDS. The wait comes
before the check and applies to every code, right or wrong, so that hanging up early
tells a guesser nothing; a person who shares the address waits a few seconds at most,
then their receipt opens their inbox.

A waiting request holds a web worker, so the server pays for the wait too: at most one
look-up per address waits at a time (others from it meanwhile are checked at once), and
there is no site-wide wait, which a flood from many addresses would turn against every
visitor (`make fuzz` measured the site at a fifth of its speed with one).
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from helpdesk.addresses import address_fingerprint

FIRST_DELAY_SECONDS = 0.25


def _key(request: HttpRequest, what: str) -> str:
    return f"intake:receipt-{what}:{address_fingerprint(request, purpose='receipt')}"


def delay(request: HttpRequest) -> float:
    """How long a look-up from this visitor waits before its code is checked."""
    excess = cache.get(_key(request, "failures"), 0) - settings.RECEIPT_FAILURES_PER_ADDRESS + 1
    if excess <= 0:
        return 0.0
    return min(
        settings.RECEIPT_FAILURE_DELAY_MAX_SECONDS,
        FIRST_DELAY_SECONDS * 2 ** min(excess - 1, 16),
    )


def wait(request: HttpRequest) -> None:
    seconds = delay(request)
    if seconds <= 0:
        return
    waiting = _key(request, "waiting")
    if not cache.add(waiting, 1, timeout=math.ceil(seconds) + 1):
        return  # another look-up from this address is waiting already
    try:
        time.sleep(seconds)
    finally:
        cache.delete(waiting)


def count(key: str, window: int) -> int:
    """One more in the window `key` counts, started by the first; how many so far.
    add() starts the window; incr() counts within it without resetting it."""
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=window)
        return 1


def record_failure(request: HttpRequest) -> None:
    count(_key(request, "failures"), settings.RECEIPT_FAILURE_WINDOW_SECONDS)


def partner_page_allowed(request: HttpRequest) -> bool:
    """Partner pages (a referral's page for the organisation it was sent to) count every
    request of an address; past PARTNER_PAGE_REQUESTS_PER_ADDRESS in the window the
    address is refused until it ends. A partner opens its page a few times; its link's
    256-bit token cannot be guessed at any rate, so the limit only stops a flood. Unlike
    a receipt it refuses rather than waits: nobody at risk is ever kept out by it."""
    key = f"intake:partner-pages:{address_fingerprint(request, purpose='partner')}"
    return count(key, settings.PARTNER_PAGE_WINDOW_SECONDS) <= (
        settings.PARTNER_PAGE_REQUESTS_PER_ADDRESS
    )
