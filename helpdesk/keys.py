"""The keys against the stored data: whether the configured FIELD_ENCRYPTION_KEY can
read what is stored (the canary, checked before the web, a worker or `check --deploy`
starts), the rotation of the master key (data keys re-wrapped, never the content
re-encrypted), and whether a case's data key still exists. The encryption itself
(fields, Fernet, AES-GCM) is helpdesk/encryption.py, below the models; this sits above
them, since it reads and writes their rows.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, transaction

from helpdesk.encryption import CANARY_TEXT, DecryptionError, rewrap, rotate
from helpdesk.models import EncryptionCanary
from keystore.models import DataKey
from keystore.router import DATABASE as KEYS


def read_key_canary():
    """The canary row, or None where none is stored yet; raises ImproperlyConfigured when
    the configured keys cannot read it. Writes nothing."""
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
    if read_key_canary() is None:
        try:
            EncryptionCanary.objects.get_or_create(pk=1, defaults={"value": CANARY_TEXT})
        except DatabaseError:
            return  # not migrated yet


def rewrap_data_keys(*, batch_size: int = 500) -> int:
    """Wrap every case's data key again with the newest master key; returns how many.
    The content sealed with the data keys is not touched. Each batch is locked and read
    again in its transaction, so a key destroyed meanwhile stays destroyed."""
    done = 0
    ids = DataKey.objects.order_by("pk").values_list("pk", flat=True)
    last_pk = None
    while True:
        page = ids if last_pk is None else ids.filter(pk__gt=last_pk)
        batch = list(page[:batch_size])
        if not batch:
            return done
        with transaction.atomic(using=KEYS):
            for key in DataKey.objects.select_for_update().filter(pk__in=batch).order_by("pk"):
                key.wrapped = rewrap(key.wrapped)
                key.save(update_fields=["wrapped"])
                done += 1
        last_pk = batch[-1]


def rotate_all_keys(*, batch_size: int = 500) -> dict[str, int]:
    """Move everything the master keys encrypt to the newest one: the data keys (re-wrapped),
    the second-factor secrets, and the canary last. Returns rows per model.

    Safe to run twice, to interrupt, and while the desk works: every value stays readable
    by the key set throughout."""
    counts = {DataKey._meta.label: rewrap_data_keys(batch_size=batch_size)}

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

