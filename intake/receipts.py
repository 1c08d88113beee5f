"""Receipt codes: the only key a submitter has to their case.

Made on the server from `secrets`: 24 Crockford base-32 characters (120 bits, above the
112 bits OWASP ASVS 5.0 asks of an unsalted secret), shown in six groups of four, which
survive dictation and any keyboard. Only a keyed hash is stored. Typing is forgiving:
case, spaces, dashes and look-alike letters do not matter. Receipts made before were 20
characters (100 bits); they keep opening their cases.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

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
