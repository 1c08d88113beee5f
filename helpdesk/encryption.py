"""Encryption at rest that fails loudly, with a key per case.

Two kinds of key:

- The master keys (FIELD_ENCRYPTION_KEY, Fernet, newest first: the first encrypts, any
  may decrypt) wrap the data keys and encrypt the few secrets that belong to no case:
  the canary and the staff's second-factor secrets.
- A data key per case (AES-256-GCM, the `cryptography` package's AEAD), stored ahead
  in batches and handed to the case when it is made, kept wrapped in the key store
  (keystore/, a database of its own). Every
  encrypted field of the case and of its messages, notes and referrals is sealed with
  it. Destroying the case deletes the key, so no copy of the main database can read
  the case any more. `rotate_keys` re-wraps the data keys; the content stays as it is.

Nothing here returns ciphertext for content: a value that cannot be decrypted raises
`DecryptionError` (django-encrypted-model-fields, which the master-key field builds on,
would silently return the token, and a later save would encrypt it again). What a user
typed is never "decrypted". No message names a value, a token or a key.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.signals import request_started
from django.db import models
from encrypted_model_fields import fields as upstream

from keystore.models import DataKey

CANARY_TEXT = "haven encryption canary"
# A sealed value: this prefix, then base64 of the key's id (16 bytes), the nonce
# (12 bytes) and the ciphertext with its tag. The key's id lets a value be read without
# its row; "" (an empty column) means nothing is stored: content destroyed.
TOKEN_PREFIX = "hv1:"  # noqa: S105 - a format marker, not a secret
NONCE_BYTES = 12
# An unwrapped data key is kept in this process only within one request, and at most
# this long elsewhere (workers, commands), so a destroyed key does not linger.
KEY_CACHE_SECONDS = 30
KEY_CACHE_SIZE = 256
# Data keys are stored ahead, this many in one commit, and handed to new cases one by
# one: a submission then waits for one disk flush (its case), not two. A key never
# handed out seals nothing; retention sweeps it (helpdesk/retention.py).
KEY_RESERVE_SIZE = 32
# ... and only for this long after they were stored: retention deletes a key no case has
# taken an hour after it was stored, so a key handed out late could be deleted under its
# case.
KEY_RESERVE_SECONDS = 600


class DecryptionError(Exception):
    """Stored data could not be decrypted: a wrong master key, a destroyed data key, or
    a value that is not what it should be."""


# -- The master keys ---------------------------------------------------------------


@cache
def _crypter_for(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def crypter() -> MultiFernet:
    """The keys in settings, newest first: the first encrypts, any may decrypt."""
    keys = settings.FIELD_ENCRYPTION_KEY
    if isinstance(keys, str):
        keys = [keys]
    return _crypter_for(tuple(keys))


def _master_error() -> DecryptionError:
    # The message names no value: neither the ciphertext nor anything around it.
    return DecryptionError(
        "Stored data cannot be decrypted with any configured FIELD_ENCRYPTION_KEY."
    )


def encrypt(text: str) -> str:
    return crypter().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str | bytes) -> str:
    return _unwrap(token).decode("utf-8")


def _unwrap(token: str | bytes) -> bytes:
    if isinstance(token, str):
        token = token.encode("ascii", errors="replace")
    try:
        return crypter().decrypt(token)
    except InvalidToken:
        raise _master_error() from None


def rotate(token: str) -> str:
    """Re-encrypt a token with the newest key (it may be readable by an older one)."""
    try:
        return crypter().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise _master_error() from None


# -- Data keys ------------------------------------------------------------------------

_keys: OrderedDict[uuid.UUID, tuple[bytes, float]] = OrderedDict()
_keys_lock = threading.Lock()


def forget_data_keys(**kwargs) -> None:
    """Drop every unwrapped data key this process holds (at each request's start)."""
    with _keys_lock:
        _keys.clear()


request_started.connect(forget_data_keys, dispatch_uid="haven_forget_data_keys")


def _remember(key_id: uuid.UUID, key: bytes) -> None:
    with _keys_lock:
        _keys[key_id] = (key, time.monotonic())
        _keys.move_to_end(key_id)
        while len(_keys) > KEY_CACHE_SIZE:
            _keys.popitem(last=False)


def new_data_key() -> uuid.UUID:
    """A data key for a new case, already stored (wrapped) in the key store; its id.

    Keys come from this process's reserve, stored in batches. Before one is handed out
    the store is asked whether it still holds it (a read, no flush): a key store
    restored from an older backup, or a test's rolled-back transaction, must never
    leave a case sealed with a key that is not kept."""
    for _ in range(2):
        key_id, key = _reserve.take()
        if data_key_exists(key_id):
            _remember(key_id, key)
            return key_id
        _reserve.discard()  # and store a fresh batch
    raise DecryptionError("The key store did not keep the data keys just stored in it.")


class _KeyReserve:
    """Data keys stored ahead for this process, never shared with a forked child (the
    parent may hand out the same keys: two cases under one key)."""

    def __init__(self) -> None:
        self._start()

    def _start(self) -> None:
        self._lock = threading.Lock()
        self._keys: list[tuple[uuid.UUID, bytes]] = []
        self._stored_at = (0.0, 0.0)  # time.monotonic() and time.time() when stored

    def _young(self) -> bool:
        # Both clocks: the monotonic one does not jump with the wall clock, and the wall
        # clock, which the sweep reckons by, goes on while a machine is paused.
        monotonic, wall = self._stored_at
        return (
            time.monotonic() - monotonic < KEY_RESERVE_SECONDS
            and 0 <= time.time() - wall < KEY_RESERVE_SECONDS
        )

    def take(self) -> tuple[uuid.UUID, bytes]:
        with self._lock:
            if not (self._keys and self._young()):
                self._keys = []  # a refill that fails leaves none of the old ones
                keys = _store_new_keys(KEY_RESERVE_SIZE)
                self._keys, self._stored_at = keys, (time.monotonic(), time.time())
            return self._keys.pop()

    def discard(self) -> None:
        with self._lock:
            self._keys = []


_reserve = _KeyReserve()
os.register_at_fork(after_in_child=_reserve._start)


def _store_new_keys(count: int) -> list[tuple[uuid.UUID, bytes]]:
    """`count` new data keys, stored wrapped in the key store in one commit."""
    keys = [(uuid.uuid4(), AESGCM.generate_key(bit_length=256)) for _ in range(count)]
    master = crypter()
    DataKey.objects.store({key_id: master.encrypt(key).decode("ascii") for key_id, key in keys})
    return keys


def data_key(key_id: uuid.UUID) -> bytes:
    """The data key stored under `key_id`, unwrapped; DecryptionError if it is gone."""
    with _keys_lock:
        held = _keys.get(key_id)
    if held is not None and time.monotonic() - held[1] < KEY_CACHE_SECONDS:
        return held[0]
    wrapped = DataKey.objects.wrapped(key_id)
    if wrapped is None:
        raise DecryptionError(
            "This data key does not exist: the content it encrypted was destroyed, or the "
            "key store is not the one this database belongs to."
        )
    key = _unwrap(wrapped)
    _remember(key_id, key)
    return key


def data_key_exists(key_id: uuid.UUID | None) -> bool:
    return key_id is not None and DataKey.objects.wrapped(key_id) is not None


def destroy_data_key(key_id: uuid.UUID) -> None:
    """Delete a data key for good: whatever it sealed can never be read again, in this
    database or in any copy of it."""
    DataKey.objects.destroy(key_id)
    with _keys_lock:
        _keys.pop(key_id, None)


def rewrap(wrapped: str) -> str:
    """A wrapped data key, wrapped again by the newest master key."""
    return rotate(wrapped)


# -- Sealing with a data key -----------------------------------------------------------


def seal(text: str, *, key_id: uuid.UUID, context: str) -> str:
    """`text` encrypted with the data key `key_id`; `context` (which field) is
    authenticated with it, so a value moved to another field does not decrypt."""
    return seal_with_key(text, key_id=key_id, key=data_key(key_id), context=context)


def seal_with_key(text: str, *, key_id: uuid.UUID, key: bytes, context: str) -> str:
    """seal() with the key in hand (the benchmark's seeding makes keys by the thousand)."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, text.encode("utf-8"), context.encode())
    return TOKEN_PREFIX + base64.urlsafe_b64encode(key_id.bytes + nonce + sealed).decode("ascii")


def token_key_id(token: str) -> uuid.UUID:
    """The id of the data key that sealed `token`."""
    return uuid.UUID(bytes=_token_bytes(token)[:16])


def _token_bytes(token: str) -> bytes:
    if not token.startswith(TOKEN_PREFIX):
        raise DecryptionError("Stored data is not a sealed value.")
    try:
        raw = base64.urlsafe_b64decode(token[len(TOKEN_PREFIX) :].encode("ascii"))
    except (binascii.Error, UnicodeEncodeError):
        raise DecryptionError("Stored data is not a sealed value.") from None
    if len(raw) < 16 + NONCE_BYTES + 16:
        raise DecryptionError("Stored data is not a sealed value.")
    return raw


def unseal(token: str, *, context: str) -> str:
    raw = _token_bytes(token)
    key_id, nonce, sealed = uuid.UUID(bytes=raw[:16]), raw[16:28], raw[28:]
    try:
        plain = AESGCM(data_key(key_id)).decrypt(nonce, sealed, context.encode())
    except InvalidTag:
        raise DecryptionError(
            "Stored data does not decrypt with its data key (altered, or moved from another field)."
        ) from None
    return plain.decode("utf-8")


# -- Fields ------------------------------------------------------------------------------


class StrictEncryptedMixin:
    """A field encrypted with the master keys (the canary). Replaces the upstream
    mixin's lenient methods; keeps its column type and migration behaviour."""

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


class Sealed(str):
    """A value already sealed by CaseEncryptedTextField.pre_save, on its way to the
    database."""


def case_key_id(instance: models.Model) -> uuid.UUID | None:
    """The data key of the case `instance` belongs to: its own for a case, its case's
    for a message, a note or a referral, its referral's case's for a referral's event.
    (Read from the fields, so that the historical models of migrations work alike.)"""
    names = {field.name for field in instance._meta.concrete_fields}
    if "key_id" in names:
        return instance.key_id
    if "case" in names:
        return instance.case.key_id
    return instance.referral.case.key_id


class CaseEncryptedTextField(models.TextField):
    """Text of a case, sealed with the case's data key when the row is saved.

    Writes go through the instance (save, create, bulk_create), which knows its case;
    a QuerySet.update() can only empty the field (""), which is how destroyed content
    is stored once its key is gone."""

    @property
    def context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        if value is None:
            return None
        key_id = case_key_id(model_instance)
        if key_id is None:
            if value == "":
                return Sealed("")
            raise ValueError("This case has no data key (its content was destroyed).")
        return Sealed(seal(str(value), key_id=key_id, context=self.context))

    def get_db_prep_save(self, value, connection):
        if value is None or value == "" or isinstance(value, Sealed):
            return None if value is None else str(value)
        raise ValueError(
            "A case's encrypted text is written by saving the row (its case's key seals "
            "it), not by QuerySet.update()."
        )

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return unseal(value, context=self.context)


def encrypted_fields(model: type[models.Model]) -> list[str]:
    """The fields of `model` encrypted with the master keys."""
    return [
        field.attname
        for field in model._meta.concrete_fields
        if isinstance(field, StrictEncryptedMixin)
    ]
