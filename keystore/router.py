"""Keeps the key store apart: keystore's table lives only in the "keys" database, and
nothing else ever does."""

from __future__ import annotations

APP = "keystore"
DATABASE = "keys"


class KeyStoreRouter:
    def db_for_read(self, model, **hints) -> str | None:
        return DATABASE if model._meta.app_label == APP else None

    def db_for_write(self, model, **hints) -> str | None:
        return DATABASE if model._meta.app_label == APP else None

    def allow_relation(self, first, second, **hints) -> bool | None:
        if APP in (first._meta.app_label, second._meta.app_label):
            return first._meta.app_label == second._meta.app_label
        return None

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool | None:
        if app_label == APP:
            return db == DATABASE
        return False if db == DATABASE else None
