"""Receipt codes: the only key a submitter has to their case.

Made on the server from `secrets`: 24 Crockford base-32 characters (120 bits, above the
112 bits OWASP ASVS 5.0 asks of an unsalted secret), shown in six groups of four, which
survive dictation and any keyboard. Only a keyed hash is stored. Typing is forgiving:
case, spaces, dashes and look-alike letters do not matter. Receipts made before were 20
characters (100 bits); they keep opening their cases.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
LENGTH = 24  # 24 x 5 bits = 120 bits
LENGTHS = (LENGTH, 20)  # new receipts, and those of 100 bits made before
GROUP = 4
LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def new_receipt() -> str:
    """A fresh receipt in its canonical form (no separators)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def display(receipt: str) -> str:
    return "-".join(receipt[i : i + GROUP] for i in range(0, len(receipt), GROUP))


def normalize(typed: str) -> str | None:
    """The canonical receipt for what someone typed, or None if it cannot be one."""
    text = "".join(ch for ch in typed.upper() if ch.isalnum()).translate(LOOK_ALIKES)
    if len(text) not in LENGTHS or any(ch not in ALPHABET for ch in text):
        return None
    return text


def _digest(receipt: str, secret: str) -> str:
    key = hashlib.sha256(f"{secret}:receipt".encode()).digest()
    return hmac.new(key, receipt.encode(), hashlib.sha256).hexdigest()


def receipt_hash(receipt: str) -> str:
    return _digest(receipt, settings.SECRET_KEY)


def candidate_hashes(receipt: str) -> list[str]:
    """The hash under the current secret and under each SECRET_KEY_FALLBACKS entry, so
    receipts survive a rotation of SECRET_KEY."""
    secrets_in_use = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [_digest(receipt, secret) for secret in secrets_in_use]


def hashes_for(typed: str) -> list[str]:
    """The hashes a typed code is looked up by. What cannot be a receipt is hashed as ""
    (which no case has), so that every code costs the same work."""
    return candidate_hashes(normalize(typed) or "")


# -- Shown once, after a redirect -------------------------------------------------------
#
# A code is shown on the page a POST redirects to (post/redirect/get), so that Back after
# the quick exit shows a blank form, never the code nor the fact that anything was sent.
# It travels in a cookie for that one hop: encrypted (AES-GCM, a key derived from
# SECRET_KEY, bound to the page's path), HttpOnly, gone when the browser closes, deleted
# by the page that shows it, refused after ONCE_SECONDS and, where the cache can say so,
# after its first showing. Never in a URL, the session or a log; the page needs no
# database to show it.

ONCE_COOKIE = "once"
ONCE_SECONDS = 600


def _once_key() -> bytes:
    return hashlib.sha256(f"{settings.SECRET_KEY}:shown-once".encode()).digest()


def show_once(response: HttpResponse, path: str, payload: dict) -> None:
    """Have the page at `path` show `payload` once (strings, numbers, lists)."""
    nonce = secrets.token_bytes(12)
    body = json.dumps({**payload, "at": int(time.time()), "id": secrets.token_hex(12)})
    sealed = AESGCM(_once_key()).encrypt(nonce, body.encode(), path.encode())
    response.set_cookie(
        ONCE_COOKIE,
        base64.urlsafe_b64encode(nonce + sealed).decode("ascii"),
        path=path,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def take_shown_once(request: HttpRequest) -> dict | None:
    """What this page is to show once, or None (none, expired, already shown, or not
    made by this site for this page)."""
    value = request.COOKIES.get(ONCE_COOKIE)
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
        body = AESGCM(_once_key()).decrypt(raw[:12], raw[12:], request.path.encode())
        payload = json.loads(body)
    except (ValueError, InvalidTag, UnicodeEncodeError):
        return None
    if not isinstance(payload, dict) or time.time() - payload.get("at", 0) > ONCE_SECONDS:
        return None
    try:
        if not cache.add(f"intake:shown:{payload.get('id')}", 1, timeout=ONCE_SECONDS):
            return None  # shown already: a replayed cookie shows nothing
    except DatabaseError:
        pass  # the embedded cache is away: the browser deletes the cookie all the same
    return payload


def forget_shown_once(request: HttpRequest, response: HttpResponse) -> None:
    if ONCE_COOKIE in request.COOKIES:
        response.delete_cookie(ONCE_COOKIE, path=request.path, samesite="Lax")
