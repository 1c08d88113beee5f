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
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, models, transaction
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


def read_key_canary():
    """The canary row, or None where none is stored yet; raises ImproperlyConfigured when
    the configured keys cannot read it. Writes nothing."""
    from helpdesk.models import EncryptionCanary

    try:
        canary = EncryptionCanary.objects.filter(pk=1).first()
    except DatabaseError:
        return None  # not migrated yet: there is nothing stored to protect
    except DecryptionError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY cannot read the data already stored in this database. "
            "Start with the key that encrypted it (older keys may follow the newest, "
            "comma-separated) and run `manage.py rotate_keys` before removing any."
        ) from None
    if canary is not None and canary.value != CANARY_TEXT:
        raise ImproperlyConfigured("The encryption canary holds unexpected content.")
    return canary


def verify_key_canary() -> None:
    """Refuse to start with keys that cannot read the data already stored.

    The canary is written on the first start with a database, and re-encrypted last
    by `rotate_keys`, so it is readable exactly when every older key still needed is
    configured.
    """
    from helpdesk.models import EncryptionCanary

    if read_key_canary() is None:
        try:
            EncryptionCanary.objects.get_or_create(pk=1, defaults={"value": CANARY_TEXT})
        except DatabaseError:
            return  # not migrated yet


def _with_content(model: type[models.Model], queryset: models.QuerySet) -> models.QuerySet:
    """Leave out rows whose content was destroyed: a case's, and its rows'."""
    names = {field.name for field in model._meta.get_fields()}
    if "content_destroyed_at" in names:
        return queryset.filter(content_destroyed_at__isnull=True)
    if "case" in names:
        return queryset.filter(case__content_destroyed_at__isnull=True)
    return queryset


def rotate_all_keys(*, batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt every encrypted value with the newest key; returns rows per model.

    Safe to run twice, to interrupt, and while the desk works: every value stays
    readable by the key set throughout; each batch is locked and read again inside its
    transaction, so a row changed or destroyed meanwhile is written back as it is now,
    never as it was; rows whose content was destroyed are left alone. The canary is
    rotated last.
    """
    from allauth.mfa.models import Authenticator

    from helpdesk.models import EncryptionCanary

    counts: dict[str, int] = {}
    for model in apps.get_models():
        names = encrypted_fields(model)
        if not names or model is EncryptionCanary:
            continue
        done = 0
        ids = _with_content(model, model._base_manager.order_by("pk")).values_list("pk", flat=True)
        last_pk = None
        while True:
            page = ids if last_pk is None else ids.filter(pk__gt=last_pk)
            batch = list(page[:batch_size])
            if not batch:
                break
            with transaction.atomic():
                # Only this model's rows: locking the case a message is joined to as well
                # deadlocked with a submitter deleting their case (case, then messages).
                locked = model._base_manager.select_for_update(of=("self",)).filter(pk__in=batch)
                for row in _with_content(model, locked).order_by("pk"):
                    row.save(update_fields=names)
                    done += 1
            last_pk = batch[-1]
        counts[model._meta.label] = done

    rotated = 0
    for pk in Authenticator.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            authenticator = Authenticator.objects.select_for_update().get(pk=pk)
            data = dict(authenticator.data)
            keys = [key for key in ("secret", "seed") if key in data]
            for key in keys:
                data[key] = rotate(data[key])
            if keys:
                authenticator.data = data
                authenticator.save(update_fields=["data"])
                rotated += 1
    counts[Authenticator._meta.label] = rotated

    canary = EncryptionCanary.objects.filter(pk=1).first()
    if canary is not None:
        canary.save(update_fields=["value"])
    counts[EncryptionCanary._meta.label] = int(canary is not None)
    return counts
