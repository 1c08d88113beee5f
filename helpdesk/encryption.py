"""Encryption at rest that fails loudly.

django-encrypted-model-fields returns the stored ciphertext when no configured key can
decrypt it, and a later save encrypts that ciphertext again: the data is silently
corrupted. Haven's fields raise `DecryptionError` instead, never try to decrypt what a
user typed, and always encrypt with the newest key. A canary row proves at start-up
that the configured keys can read what is already stored.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models
from encrypted_model_fields import fields as upstream

CANARY_TEXT = "haven encryption canary"


class DecryptionError(Exception):
    """Stored data could not be decrypted with any configured key."""


@cache
def _crypter_for(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def crypter() -> MultiFernet:
    """The keys in settings, newest first: the first encrypts, any may decrypt."""
    keys = settings.FIELD_ENCRYPTION_KEY
    if isinstance(keys, str):
        keys = [keys]
    return _crypter_for(tuple(keys))


def encrypt(text: str) -> str:
    return crypter().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str | bytes) -> str:
    if isinstance(token, str):
        token = token.encode("ascii", errors="replace")
    try:
        return crypter().decrypt(token).decode("utf-8")
    except InvalidToken:
        # The message names no value: neither the ciphertext nor anything around it.
        raise DecryptionError(
            "Stored data cannot be decrypted with any configured FIELD_ENCRYPTION_KEY."
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt a token with the newest key (it may be readable by an older one)."""
    try:
        return crypter().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise DecryptionError(
            "Stored data cannot be decrypted with any configured FIELD_ENCRYPTION_KEY."
        ) from None


class StrictEncryptedMixin:
    """Replaces the upstream mixin's lenient methods; keeps its column type and
    migration behaviour."""

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return self._plain_to_python(decrypt(value))

    def to_python(self, value):
        # Values reaching to_python come from forms, fixtures or code: they are plain
        # text. Decrypting them "if they look like a token" is how upstream lets
        # ciphertext pass for content.
        return self._plain_to_python(value)

    def _plain_to_python(self, value):
        return super(upstream.EncryptedMixin, self).to_python(value)

    def get_db_prep_save(self, value, connection):
        value = super(upstream.EncryptedMixin, self).get_db_prep_save(value, connection)
        if value is None:
            return None
        return encrypt(str(value))


class EncryptedCharField(StrictEncryptedMixin, upstream.EncryptedCharField):
    pass


class EncryptedTextField(StrictEncryptedMixin, upstream.EncryptedTextField):
    pass


def encrypted_fields(model: type[models.Model]) -> list[str]:
    return [
        field.attname
        for field in model._meta.concrete_fields
        if isinstance(field, StrictEncryptedMixin)
    ]
