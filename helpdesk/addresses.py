"""Client addresses, only ever as short-lived keyed hashes.

An address is never stored or logged. Rate limits key on an HMAC of it whose key
changes every `ADDRESS_HASH_PERIOD` seconds, held in the cache only, so yesterday's
counters cannot be tied to today's visitors.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.http import HttpRequest

ADDRESS_HASH_PERIOD = 6 * 3600


def client_address(request: HttpRequest) -> str:
    """The visitor's address, trusting exactly TRUSTED_PROXY_COUNT reverse proxies."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def address_fingerprint(request: HttpRequest, *, purpose: str = "ratelimit") -> str:
    period = int(time.time()) // ADDRESS_HASH_PERIOD
    key = hashlib.sha256(f"{settings.SECRET_KEY}:address:{period}".encode()).digest()
    message = f"{purpose}:{client_address(request)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]
