"""The keys against the stored data: whether the configured FIELD_ENCRYPTION_KEY can
read what is stored (the canary, checked before the web, a worker or `check --deploy`
starts), and the rotation of every encrypted value to the newest key. The encryption
itself (fields, Fernet) is helpdesk/encryption.py, below the models; this sits above
them, since it reads and writes their rows.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, models, transaction

from helpdesk.encryption import CANARY_TEXT, DecryptionError, encrypted_fields, rotate
from helpdesk.models import EncryptionCanary


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
