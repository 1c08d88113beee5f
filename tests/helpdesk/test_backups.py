"""Deletion is final, backups included: a copy of the main database taken before a case
was destroyed cannot read the case with the key store as it is now, and says so loudly.

Each test takes real copies (SQLite's backup API on the embedded default; pg_dump and
pg_restore on PostgreSQL) of the main database and of the key store, destroys the case,
then opens the old main copy as a database of its own next to the current key store.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
from contextlib import contextmanager
from uuid import UUID

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import connections
from django.db.utils import load_backend
from django.utils import timezone

from helpdesk import referrals
from helpdesk.encryption import TOKEN_PREFIX, DecryptionError, forget_data_keys
from helpdesk.models import Case, Message, Note, Referral
from resources.models import Organisation
from tests.conftest import SERVICES, train
from tests.helpdesk.test_desk import new_case

CANARY = "CANARY-backup-proof-3b1c"


def case_with_everything(volunteer) -> Case:
    """A case whose every encrypted field holds text: description, contact, a message,
    a note and a referral with its outcome."""
    train(volunteer, languages=["ar"], needs=["leave"], capacity=5)
    case = new_case(volunteer=volunteer)
    Case.objects.filter(pk=case.pk).update(contact_channel="signal")
    case.refresh_from_db()
    case.description = f"Help me {CANARY}"
    case.contact_details, case.contact_safe_times = f"+32 470 {CANARY}", f"evenings {CANARY}"
    case.contact_code_word = f"blue {CANARY}"
    case.save()
    case.add_submitter_message(f"He checks my phone {CANARY}")
    case.reply(f"We read you {CANARY}", by=volunteer)
    case.add_note(f"Do not call {CANARY}", by=volunteer)
    organisation = Organisation.objects.create(
        slug="org", name="Org", website="https://org.example", verified_on=timezone.localdate()
    )
    referral = referrals.draft(
        case=case, organisation=organisation, by=volunteer, subject=f"S {CANARY}",
        body=f"B {CANARY}",
    )  # fmt: skip
    referral.outcome_note = f"O {CANARY}"
    referral.save(update_fields=["outcome_note"])
    return case


def read_everything(case_id: int, using: str) -> list[str]:
    """Every encrypted text of the case, read through the ORM from database `using` (its
    data key always comes from the key store, whichever copy the rows come from)."""
    forget_data_keys()  # as a new request would: no key held over from before
    case = Case.objects.using(using).get(pk=case_id)
    texts = [case.description, case.contact_details, case.contact_safe_times,
             case.contact_code_word]  # fmt: skip
    texts += [m.body for m in Message.objects.using(using).filter(case_id=case_id)]
    texts += [n.body for n in Note.objects.using(using).filter(case_id=case_id)]
    for referral in Referral.objects.using(using).filter(case_id=case_id):
        texts += [referral.subject, referral.body, referral.outcome_note]
    return texts


def raw_tokens(cursor, case_id: int) -> list[str]:
    """The stored values themselves, as a backup holds them."""
    queries = [
        "SELECT description, contact_details, contact_safe_times, contact_code_word "
        "FROM helpdesk_case WHERE id = %s",
        "SELECT body FROM helpdesk_message WHERE case_id = %s",
        "SELECT body FROM helpdesk_note WHERE case_id = %s",
        "SELECT subject, body, outcome_note FROM helpdesk_referral WHERE case_id = %s",
    ]
    tokens = []
    for query in queries:
        cursor.execute(query, [case_id])
        tokens += [value for row in cursor.fetchall() for value in row]
    return tokens


def master() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.FIELD_ENCRYPTION_KEY])


@contextmanager
def opened(alias: str, settings_dict: dict):
    """A copy opened as a database of its own, next to the live ones (a connection made
    here, not in settings: Django's test case allows those)."""
    setattr(connections._connections, alias, load_backend(settings_dict["ENGINE"]).DatabaseWrapper(
        settings_dict, alias
    ))  # fmt: skip
    try:
        yield alias
    finally:
        connections[alias].close()
        delattr(connections._connections, alias)


def prove_deletion_is_final(volunteer, copy_databases) -> None:
    case = case_with_everything(volunteer)
    key_id = case.key_id
    live = read_everything(case.pk, "default")
    assert len(live) == 10 and all(CANARY in text for text in live)

    main_copy, keys_copy = copy_databases()  # the nightly backups, taken before the deletion

    with opened("old_main", main_copy) as old, opened("old_keys", keys_copy) as old_keys:
        # The copy is a real, readable backup while the key exists.
        assert read_everything(case.pk, old) == live
        case.destroy_content(by_submitter=True)
        assert read_everything(case.pk, "default")[:4] == ["", "", "", ""]
        assert not case.key_exists

        # The old copy of the main database with the key store as it is now: unreadable,
        # and loudly so. The error names no value.
        with pytest.raises(DecryptionError, match="data key does not exist") as caught:
            read_everything(case.pk, old)
        with connections[old].cursor() as cursor:
            tokens = raw_tokens(cursor, case.pk)
        assert len(tokens) == 10 and all(token.startswith(TOKEN_PREFIX) for token in tokens)
        assert CANARY not in str(caught.value)
        assert not any(token in str(caught.value) for token in tokens)
        # Nothing in the old copy is in clear, and the master key alone opens none of it.
        assert not any(CANARY in token for token in tokens)
        for token in tokens:
            with pytest.raises(InvalidToken):
                master().decrypt(token.encode())

        # The limit, stated in docs/deployment.md: the key store's own backup taken
        # before the deletion still holds the key, so both old copies together can read
        # the case until that backup expires (KEY_STORE_BACKUP_DAYS). Then nothing can.
        from keystore.models import DataKey

        key = master().decrypt(DataKey.objects.using(old_keys).get(pk=key_id).wrapped.encode())
        raw = base64.urlsafe_b64decode(tokens[0][len(TOKEN_PREFIX) :])
        assert UUID(bytes=raw[:16]) == key_id
        context = Case._meta.get_field("description").context.encode()
        assert CANARY in AESGCM(key).decrypt(raw[16:28], raw[28:], context).decode()


@pytest.fixture
def volunteer_in_transaction(transactional_db):
    from helpdesk.roles import Role
    from tests.conftest import make_staff

    return make_staff("vic@example.org", Role.VOLUNTEER, first_name="Vic")


@pytest.mark.skipif(SERVICES, reason="the embedded default's copy; PostgreSQL's is below")
def test_an_old_copy_of_the_embedded_database_cannot_read_a_destroyed_case(
    volunteer_in_transaction, tmp_path
):
    assert connections["default"].vendor == "sqlite"

    def copy_databases():
        copies = {}
        for alias in ("default", "keys"):
            connections[alias].ensure_connection()
            target = sqlite3.connect(tmp_path / f"{alias}.sqlite3")
            connections[alias].connection.backup(target)
            target.close()
            copies[alias] = {**connections[alias].settings_dict,
                             "NAME": str(tmp_path / f"{alias}.sqlite3")}  # fmt: skip
        return copies["default"], copies["keys"]

    prove_deletion_is_final(volunteer_in_transaction, copy_databases)


@pytest.mark.services
def test_an_old_dump_of_the_postgresql_database_cannot_read_a_destroyed_case(
    volunteer_in_transaction, tmp_path
):
    assert connections["default"].vendor == "postgresql"
    made = []

    def dump_and_restore(alias: str) -> dict:
        source = connections[alias].settings_dict
        env = {**os.environ, "PGHOST": source["HOST"] or "127.0.0.1",
               "PGPORT": str(source["PORT"] or 5432), "PGUSER": source["USER"] or "postgres",
               "PGPASSWORD": source["PASSWORD"] or ""}  # fmt: skip
        dump = tmp_path / f"{alias}.dump"
        name = f"{source['NAME']}_copy"
        run = {"env": env, "check": True, "capture_output": True, "timeout": 120}
        subprocess.run(["pg_dump", "-Fc", "-f", str(dump), source["NAME"]], **run)  # noqa: S603,S607
        subprocess.run(["dropdb", "--if-exists", name], **run)  # noqa: S603,S607
        subprocess.run(["createdb", name], **run)  # noqa: S603,S607
        subprocess.run(["pg_restore", "--no-owner", "-d", name, str(dump)], **run)  # noqa: S603,S607
        made.append((name, run))
        return {**source, "NAME": name}

    try:
        copies = lambda: (dump_and_restore("default"), dump_and_restore("keys"))  # noqa: E731
        prove_deletion_is_final(volunteer_in_transaction, copies)
    finally:
        for name, run in made:
            subprocess.run(["dropdb", "--if-exists", name], **{**run, "check": False})  # noqa: S603,S607
