"""The key store: one data key per case, kept in a database of its own ("keys").

A case's content is encrypted with its own random data key (helpdesk/encryption.py);
the key is stored here, wrapped by the master key, and nowhere else. Destroying a case
deletes its row: from then on no copy of the main database, however old, can read the
case; once the key store's own backups of the row have expired too
(KEY_STORE_BACKUP_DAYS), no copy anywhere can. This app knows nothing of cases or of
cryptography: it keeps opaque wrapped keys under random ids (a few of them not yet
handed to a case: keys are stored ahead, in batches).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class DataKeyQuerySet(models.QuerySet):
    def wrapped(self, key_id: uuid.UUID) -> str | None:
        """The wrapped key stored under `key_id`, or None when there is none (destroyed)."""
        return self.filter(pk=key_id).values_list("wrapped", flat=True).first()

    def store(self, wrapped_keys: dict[uuid.UUID, str]) -> None:
        """Keep these wrapped keys under their ids, all in one commit."""
        self.bulk_create(
            DataKey(id=key_id, wrapped=wrapped) for key_id, wrapped in wrapped_keys.items()
        )

    def destroy(self, key_id: uuid.UUID) -> None:
        self.filter(pk=key_id).delete()


class DataKey(models.Model):
    # A random id rather than a sequence: a key store restored from a backup can never
    # hand a reused id to a new case.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    wrapped = models.TextField()
    # Indexed: retention's hourly sweep of unused keys reads the last two days' keys.
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = DataKeyQuerySet.as_manager()

    def __str__(self) -> str:
        return f"data key {self.pk}"
