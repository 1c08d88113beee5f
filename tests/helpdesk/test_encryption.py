"""Encrypted fields fail loudly, start-up refuses a wrong key, rotate_keys re-encrypts."""

import io
import os
import subprocess
import sys
import threading
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from helpdesk.encryption import DecryptionError, decrypt, encrypt
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


def test_rotate_keys_reencrypts_everything_with_the_newest_key(canary, settings, volunteer):
    totp = Authenticator.objects.get(user=volunteer, type=Authenticator.Type.TOTP)
    secret = decrypt(totp.data["secret"])

    settings.FIELD_ENCRYPTION_KEY = [NEW, OLD]
    output = io.StringIO()
    call_command("rotate_keys", stdout=output)
    assert "helpdesk.EncryptionCanary: 1 rows re-encrypted" in output.getvalue()

    settings.FIELD_ENCRYPTION_KEY = [NEW]  # the old key is gone now
    verify_key_canary()
    assert Fernet(NEW).decrypt(raw_value().encode()).decode() == "haven encryption canary"
    totp.refresh_from_db()
    assert decrypt(totp.data["secret"]) == secret
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    assert TOTP(totp).validate_code(code)  # sign-in still works after the rotation


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
    """Destroy `case` from another connection at the moment rotation saves it, as a
    submitter deleting their case (or the retention purge) would during `rotate_keys`.
    Returns the thread doing it."""
    from helpdesk.models import Case

    save = Case.save
    racer = threading.Thread(target=_destroy_and_close, args=(case.pk,))

    def save_and_race(row, *args, **kwargs):
        if row.pk == case.pk and not racer.is_alive() and racer.ident is None:
            racer.start()
            racer.join(timeout=2)  # a rotation holding the row's lock keeps it waiting
        return save(row, *args, **kwargs)

    monkeypatch.setattr(Case, "save", save_and_race)
    return racer


def _destroy_and_close(case_id: int) -> None:
    from helpdesk.models import Case

    try:
        Case.objects.get(pk=case_id).destroy_content(by_submitter=True)
    finally:
        connection.close()


@pytest.mark.services
def test_a_case_destroyed_during_rotation_never_gets_its_text_back(
    transactional_db, settings, monkeypatch
):
    from helpdesk.models import Case, Message
    from tests.helpdesk.test_desk import CANARY, new_case

    assert connection.vendor == "postgresql"
    case = new_case()
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


def test_rotation_leaves_destroyed_cases_alone(db, settings):
    from tests.helpdesk.test_desk import new_case

    kept, destroyed = new_case(), new_case()
    destroyed.destroy_content(by_submitter=True)
    settings.FIELD_ENCRYPTION_KEY = [NEW, OLD]
    output = io.StringIO()
    call_command("rotate_keys", stdout=output)
    assert "helpdesk.Case: 1 rows re-encrypted" in output.getvalue()
    settings.FIELD_ENCRYPTION_KEY = [NEW]
    kept.refresh_from_db()
    assert kept.description.startswith("Help me")
