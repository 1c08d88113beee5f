"""Encrypted fields fail loudly, start-up refuses a wrong key, rotate_keys re-wraps the
cases' data keys and re-encrypts the few values the master key encrypts itself."""

import io
import os
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection

from helpdesk.encryption import (
    TOKEN_PREFIX,
    DecryptionError,
    decrypt,
    encrypt,
    forget_data_keys,
    token_key_id,
)
from helpdesk.keys import rotate_all_keys, verify_key_canary
from helpdesk.models import EncryptionCanary
from tests.conftest import CELERY_WORKER

OLD = settings.FIELD_ENCRYPTION_KEY[0]
NEW = Fernet.generate_key().decode()
OTHER = Fernet.generate_key().decode()


def raw_value(pk: int = 1) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM helpdesk_encryptioncanary WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.fixture
def canary(db) -> EncryptionCanary:
    return EncryptionCanary.objects.create(pk=1, value="haven encryption canary")


def test_content_is_stored_as_ciphertext(canary):
    stored = raw_value()
    assert "canary" not in stored
    assert decrypt(stored) == "haven encryption canary"


def test_a_wrong_key_raises_instead_of_returning_ciphertext(canary, settings):
    settings.FIELD_ENCRYPTION_KEY = [OTHER]
    with pytest.raises(DecryptionError) as caught:
        EncryptionCanary.objects.get(pk=1)
    assert raw_value() not in str(caught.value)  # the error names no ciphertext
    settings.FIELD_ENCRYPTION_KEY = [OLD]
    assert EncryptionCanary.objects.get(pk=1).value == "haven encryption canary"


def test_typed_text_that_looks_like_a_token_is_kept_as_typed(db):
    token = encrypt("hidden")
    EncryptionCanary.objects.create(pk=2, value=token)
    assert EncryptionCanary.objects.get(pk=2).value == token
    assert decrypt(decrypt(raw_value(2))) == "hidden"  # encrypted once more, not decrypted


def test_canary_refuses_a_key_that_cannot_read_stored_data(canary, settings):
    settings.FIELD_ENCRYPTION_KEY = [OTHER]
    with pytest.raises(ImproperlyConfigured, match="cannot read the data already stored"):
        verify_key_canary()
    settings.FIELD_ENCRYPTION_KEY = [NEW, OLD]  # a new key with the old one behind it
    verify_key_canary()


def test_canary_is_written_on_first_start(db):
    assert not EncryptionCanary.objects.exists()
    verify_key_canary()
    assert EncryptionCanary.objects.get(pk=1).value == "haven encryption canary"


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_rotate_keys_rewraps_data_keys_and_reencrypts_the_rest(canary, settings, volunteer):
    from helpdesk.models import Case, Message
    from keystore.models import DataKey
    from tests.helpdesk.test_desk import CANARY, new_case

    case = new_case()
    message = Message.objects.create(case=case, author="submitter", body=f"More {CANARY}")
    description = raw_column("helpdesk_case", "description", case.pk)
    body = raw_column("helpdesk_message", "body", message.pk)
    wrapped = DataKey.objects.get(pk=case.key_id).wrapped
    totp = Authenticator.objects.get(user=volunteer, type=Authenticator.Type.TOTP)
    secret = decrypt(totp.data["secret"])

    settings.FIELD_ENCRYPTION_KEY = [NEW, OLD]
    output = io.StringIO()
    call_command("rotate_keys", stdout=output)
    # Every stored key: the case's, and those stored ahead for the next cases.
    assert f"keystore.DataKey: {DataKey.objects.count()} rows re-wrapped" in output.getvalue()
    assert "helpdesk.EncryptionCanary: 1 rows re-encrypted" in output.getvalue()

    settings.FIELD_ENCRYPTION_KEY = [NEW]  # the old key is gone now
    forget_data_keys()
    verify_key_canary()
    # The data key is wrapped by the new master key; the content was not touched.
    rewrapped = DataKey.objects.get(pk=case.key_id).wrapped
    assert rewrapped != wrapped
    for stored in DataKey.objects.values_list("wrapped", flat=True):
        Fernet(NEW).decrypt(stored.encode())  # raises if any key was left on the old one
    assert Fernet(NEW).decrypt(rewrapped.encode()) == Fernet(OLD).decrypt(wrapped.encode())
    assert raw_column("helpdesk_case", "description", case.pk) == description
    assert raw_column("helpdesk_message", "body", message.pk) == body
    assert Case.objects.get(pk=case.pk).description == f"Help me {CANARY}"
    assert Message.objects.get(pk=message.pk).body == f"More {CANARY}"
    assert Fernet(NEW).decrypt(raw_value().encode()).decode() == "haven encryption canary"
    totp.refresh_from_db()
    assert decrypt(totp.data["secret"]) == secret
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    assert TOTP(totp).validate_code(code)  # sign-in still works after the rotation


def test_case_content_is_sealed_with_the_cases_own_key(db):
    from helpdesk.models import Case
    from tests.helpdesk.test_desk import CANARY, new_case

    first, second = new_case(), new_case()
    assert first.key_id != second.key_id
    stored = raw_column("helpdesk_case", "description", first.pk)
    assert CANARY not in stored and stored.startswith(TOKEN_PREFIX)
    assert token_key_id(stored) == first.key_id
    with pytest.raises(InvalidToken):
        Fernet(OLD).decrypt(stored.encode())  # not the master key's ciphertext
    # A value moved into another case, or another field, does not decrypt: it fails loudly.
    Case.objects.filter(pk=second.pk).update(description="")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE helpdesk_case SET contact_details = %s WHERE id = %s", [stored, first.pk]
        )
    with pytest.raises(DecryptionError) as caught:
        Case.objects.get(pk=first.pk)
    assert stored not in str(caught.value)


def test_a_wrong_master_key_cannot_unwrap_a_cases_key(db, settings):
    from helpdesk.models import Case
    from tests.helpdesk.test_desk import new_case

    case = new_case()
    settings.FIELD_ENCRYPTION_KEY = [OTHER]
    forget_data_keys()
    with pytest.raises(DecryptionError, match="FIELD_ENCRYPTION_KEY"):
        Case.objects.get(pk=case.pk)


def test_destroying_a_case_destroys_its_key_and_keeps_the_figures(db):
    from helpdesk.models import Case
    from keystore.models import DataKey
    from tests.helpdesk.test_desk import new_case

    case = new_case()
    key_id = case.key_id
    assert case.key_exists and DataKey.objects.filter(pk=key_id).exists()
    case.destroy_content(by_submitter=True)
    assert not DataKey.objects.filter(pk=key_id).exists()
    case = Case.objects.get(pk=case.pk)
    assert case.key_id is None and not case.key_exists
    assert case.description == "" and case.need.slug == "leave" and case.country == "SY"


def test_the_case_key_command_says_whether_a_key_exists(db, settings):
    from tests.helpdesk.test_desk import new_case

    case = new_case()
    output = io.StringIO()
    call_command("case_key", case.reference.lower(), stdout=output)
    assert "its key exists" in output.getvalue()
    case.destroy_content(by_submitter=False)
    output = io.StringIO()
    call_command("case_key", case.reference, stdout=output)
    said = output.getvalue()
    assert "key was destroyed" in said and "No copy of the main database can read it" in said
    assert f"kept {settings.KEY_STORE_BACKUP_DAYS} days" in said
    with pytest.raises(CommandError, match="No case"):
        call_command("case_key", "NOSUCHREF")


def test_a_refused_submission_leaves_no_key_behind(db):
    from helpdesk import cases
    from helpdesk.models import Case
    from keystore.models import DataKey
    from tests.helpdesk.test_desk import new_case

    case = new_case()
    before = set(DataKey.objects.values_list("pk", flat=True))
    with pytest.raises(cases.DuplicateSubmission):
        cases.submit_concern(
            receipt_hash="another",
            submission_key=case.submission_key,
            for_whom="self",
            need=case.need,
            country="SY",
            languages=["ar"],
            language="ar",
            urgent=False,
            description="twice",
        )
    after = set(DataKey.objects.values_list("pk", flat=True))
    # The key the refused submission took is destroyed; the case's, and the keys stored
    # ahead for the next cases, stay.
    assert after < before and len(before - after) == 1
    assert case.key_id in after
    assert not Case.objects.filter(key_id__in=before - after).exists()


def run_python(code: str, var_dir, **env) -> subprocess.CompletedProcess:
    environment = {
        "PATH": os.environ["PATH"],
        "HAVEN_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_manage(var_dir, *args: str, **env) -> subprocess.CompletedProcess:
    code = f"from django.core.management import execute_from_command_line as run; run({args!r})"
    return run_python(code, var_dir, **env)


def migrated_with_canary(var_dir) -> None:
    """An embedded Haven in `var_dir` whose canary was written with its own key."""
    assert run_manage(var_dir, "manage.py", "migrate", "-v0").returncode == 0
    first = run_python("import helpdesk.wsgi", var_dir)  # writes the canary
    assert first.returncode == 0, first.stderr


def test_the_web_server_refuses_to_start_with_the_wrong_key(tmp_path):
    migrated_with_canary(tmp_path)

    wrong = run_python("import helpdesk.wsgi", tmp_path, FIELD_ENCRYPTION_KEY=OTHER)
    assert wrong.returncode != 0
    assert "cannot read the data already stored" in wrong.stderr

    rotated = run_python(
        "import helpdesk.wsgi", tmp_path, FIELD_ENCRYPTION_KEY=f"{OTHER},{_local_key(tmp_path)}"
    )
    assert rotated.returncode == 0, rotated.stderr


def _local_key(var_dir) -> str:
    import json

    return json.loads((var_dir / "keys.json").read_text())["FIELD_ENCRYPTION_KEY"]


def test_a_worker_with_the_wrong_key_exits_before_taking_a_task(tmp_path):
    migrated_with_canary(tmp_path)
    environment = {
        "PATH": os.environ["PATH"],
        "HAVEN_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "FIELD_ENCRYPTION_KEY": OTHER,
    }
    worker = subprocess.run(  # noqa: S603
        [*CELERY_WORKER, "--loglevel=INFO"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert worker.returncode != 0
    output = worker.stdout + worker.stderr
    assert "cannot read the data already stored" in output
    assert "ready." not in output  # it never started consuming
    assert OTHER not in output


def test_deploy_checks_open_the_canary(tmp_path):
    migrated_with_canary(tmp_path)
    good = run_manage(tmp_path, "manage.py", "check", "--deploy")
    assert good.returncode == 0, good.stderr
    wrong = run_manage(tmp_path, "manage.py", "check", "--deploy", FIELD_ENCRYPTION_KEY=OTHER)
    assert wrong.returncode != 0
    assert "helpdesk.E001" in wrong.stderr
    assert "cannot read the data already stored" in wrong.stderr


def destroyed_while_rotating(monkeypatch, case) -> threading.Thread:
    """Destroy `case` from another connection at the moment rotation re-wraps its key, as
    a submitter deleting their case (or the retention purge) would during `rotate_keys`.
    Returns the thread doing it."""
    from keystore.models import DataKey

    save = DataKey.save
    racer = threading.Thread(target=_destroy_and_close, args=(case.pk,))

    def save_and_race(row, *args, **kwargs):
        if row.pk == case.key_id and not racer.is_alive() and racer.ident is None:
            racer.start()
            racer.join(timeout=2)  # a rotation holding the key's lock keeps it waiting
        return save(row, *args, **kwargs)

    monkeypatch.setattr(DataKey, "save", save_and_race)
    return racer


def _destroy_and_close(case_id: int) -> None:
    from django.db import connections

    from helpdesk.models import Case

    try:
        Case.objects.get(pk=case_id).destroy_content(by_submitter=True)
    finally:
        connections.close_all()


@pytest.mark.services
def test_a_case_destroyed_during_rotation_never_gets_its_text_back(
    transactional_db, settings, monkeypatch
):
    from helpdesk.models import Case, Message
    from keystore.models import DataKey
    from tests.helpdesk.test_desk import CANARY, new_case

    assert connection.vendor == "postgresql"
    case = new_case()
    key_id = case.key_id
    Message.objects.create(case=case, author=Message.Author.SUBMITTER, body=f"Hi {CANARY}")
    racer = destroyed_while_rotating(monkeypatch, case)

    settings.FIELD_ENCRYPTION_KEY = [NEW, OLD]
    rotate_all_keys()
    racer.join(timeout=30)
    assert not racer.is_alive()

    case = Case.objects.get(pk=case.pk)
    assert case.content_destroyed
    assert case.description == ""
    assert not Message.objects.filter(case=case).exists()
    assert not DataKey.objects.filter(pk=key_id).exists()  # the rotation wrote none back


def test_rotation_has_no_key_to_rewrap_for_a_destroyed_case(db, settings):
    from keystore.models import DataKey
    from tests.helpdesk.test_desk import new_case

    kept, destroyed = new_case(), new_case()
    destroyed_key = destroyed.key_id
    destroyed.destroy_content(by_submitter=True)
    stored = DataKey.objects.count()
    settings.FIELD_ENCRYPTION_KEY = [NEW, OLD]
    output = io.StringIO()
    call_command("rotate_keys", stdout=output)
    assert f"keystore.DataKey: {stored} rows re-wrapped" in output.getvalue()
    assert not DataKey.objects.filter(pk=destroyed_key).exists()
    settings.FIELD_ENCRYPTION_KEY = [NEW]
    forget_data_keys()
    kept.refresh_from_db()
    assert kept.description.startswith("Help me")


def test_content_encrypted_before_with_the_master_key_is_sealed_with_a_case_key(db):
    """Migration 0016: a case stored before cases had keys (Fernet, master key) gets its
    own key, and its content, messages and referral texts are sealed with it; a case
    destroyed before holds "" and no key."""
    from importlib import import_module

    from django.apps import apps

    from helpdesk.models import Case, Message
    from tests.helpdesk.test_desk import CANARY, new_case

    live, destroyed = new_case(), new_case()
    Message.objects.create(case=live, author="submitter", body=f"Later {CANARY}")
    destroyed.destroy_content(by_submitter=True)
    with connection.cursor() as cursor:  # as the rows were stored before
        cursor.execute(
            "UPDATE helpdesk_case SET key_id = NULL, description = %s, contact_details = %s, "
            "contact_safe_times = %s, contact_code_word = %s WHERE id = %s",
            [encrypt(f"Old {CANARY}"), encrypt(""), encrypt(""), encrypt("blue"), live.pk],
        )
        cursor.execute("UPDATE helpdesk_message SET body = %s", [encrypt(f"Old reply {CANARY}")])
        cursor.execute(
            "UPDATE helpdesk_case SET description = %s WHERE id = %s", [encrypt(""), destroyed.pk]
        )
    migration = import_module("helpdesk.migrations.0015_seal_content_with_case_keys")
    # It uses the schema editor only for its connection.
    migration.seal_existing_content(apps, SimpleNamespace(connection=connection))

    live = Case.objects.get(pk=live.pk)
    assert live.key_id is not None and live.key_exists
    assert live.description == f"Old {CANARY}" and live.contact_details == ""
    assert live.contact_code_word == "blue"
    assert live.messages.get().body == f"Old reply {CANARY}"
    assert token_key_id(raw_column("helpdesk_case", "description", live.pk)) == live.key_id
    destroyed = Case.objects.get(pk=destroyed.pk)
    assert destroyed.key_id is None and destroyed.description == ""
    assert raw_column("helpdesk_case", "description", destroyed.pk) == ""
