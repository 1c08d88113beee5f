"""Data keys stored ahead (helpdesk/encryption.py): a submission waits for one disk
flush, its case's, not a second one for its key; and no case is ever sealed with a key
the key store does not keep, or shares its key with another case."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from helpdesk import encryption, retention
from helpdesk.models import Case
from keystore.models import DataKey
from tests.helpdesk.test_desk import CANARY, new_case

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def key_store_writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("INSERT")]


def test_cases_take_keys_stored_ahead_in_one_write_per_batch():
    size = encryption.KEY_RESERVE_SIZE
    with CaptureQueriesContext(connections["keys"]) as queries:
        cases = [new_case() for _ in range(size + 1)]
    # Two batches for 33 cases: one write to the key store per 32 submissions.
    assert len(key_store_writes(queries.captured_queries)) == 2
    key_ids = [case.key_id for case in cases]
    assert len(set(key_ids)) == len(cases)
    assert set(DataKey.objects.filter(pk__in=key_ids).values_list("pk", flat=True)) == set(key_ids)
    encryption.forget_data_keys()  # a new request: each key is read from the store
    for case in cases:
        assert Case.objects.get(pk=case.pk).description == f"Help me {CANARY}"


def test_a_key_the_store_lost_is_never_handed_to_a_case():
    """A key store restored from an older backup (here: its rows deleted behind the
    reserve's back) no longer holds the keys this process stored ahead: the next case
    gets a key that is kept, and stays readable."""
    first = new_case()
    DataKey.objects.exclude(pk=first.key_id).delete()
    case = new_case()
    assert DataKey.objects.filter(pk=case.key_id).exists()
    encryption.forget_data_keys()
    assert Case.objects.get(pk=case.pk).description == f"Help me {CANARY}"


def test_keys_stored_long_ago_are_not_handed_out(monkeypatch):
    """Retention deletes keys no case took within an hour, so a quiet process does not
    hand out a key from a reserve older than KEY_RESERVE_SECONDS."""
    first = new_case()
    reserve = set(DataKey.objects.exclude(pk=first.key_id).values_list("pk", flat=True))
    later = encryption.time.monotonic() + encryption.KEY_RESERVE_SECONDS + 1
    monkeypatch.setattr(encryption.time, "monotonic", lambda: later)
    second = new_case()
    assert second.key_id not in reserve


def test_a_reserve_is_old_by_the_wall_clock_too(monkeypatch):
    """A machine paused for an hour: the monotonic clock stood still, the wall clock (by
    which the sweep reckons a key's age) did not."""
    first = new_case()
    reserve = set(DataKey.objects.exclude(pk=first.key_id).values_list("pk", flat=True))
    later = encryption.time.time() + encryption.KEY_RESERVE_SECONDS + 1
    monkeypatch.setattr(encryption.time, "time", lambda: later)
    assert new_case().key_id not in reserve


def test_a_refill_that_fails_hands_out_no_old_key(monkeypatch):
    first = new_case()
    reserve = set(DataKey.objects.exclude(pk=first.key_id).values_list("pk", flat=True))
    later = encryption.time.monotonic() + encryption.KEY_RESERVE_SECONDS + 1
    monkeypatch.setattr(encryption.time, "monotonic", lambda: later)
    store = encryption._store_new_keys

    def unreachable(count):
        raise OperationalError("the key store is away")

    monkeypatch.setattr(encryption, "_store_new_keys", unreachable)
    with pytest.raises(OperationalError):
        encryption.new_data_key()
    monkeypatch.setattr(encryption, "_store_new_keys", store)
    assert new_case().key_id not in reserve  # not one of the old batch, still there


def test_a_forked_process_does_not_share_the_parents_reserve():
    new_case()  # the parent now holds keys stored ahead
    assert encryption._reserve._keys
    child = os.fork()
    if child == 0:  # pragma: no cover - the child only reports what it holds
        os._exit(0 if not encryption._reserve._keys else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_two_cases_cannot_share_a_key():
    from django.db import IntegrityError, transaction

    first, second = new_case(), new_case()
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=second.pk).update(key_id=first.key_id)


def test_the_sweep_deletes_only_keys_no_case_took_within_an_hour():
    now = timezone.now()
    old_case = new_case()
    unused = set(DataKey.objects.exclude(pk=old_case.key_id).values_list("pk", flat=True))
    assert unused
    # Everything so far was stored two hours ago; one more key is fresh.
    DataKey.objects.update(created_at=now - timedelta(hours=2))
    encryption._reserve.discard()
    fresh_case = new_case()
    fresh_unused = set(
        DataKey.objects.filter(created_at__gte=now - timedelta(minutes=1))
        .exclude(pk=fresh_case.key_id)
        .values_list("pk", flat=True)
    )

    assert retention.sweep_unused_keys(now=now) == len(unused)
    kept = set(DataKey.objects.values_list("pk", flat=True))
    assert kept == {old_case.key_id, fresh_case.key_id} | fresh_unused
    encryption.forget_data_keys()
    assert Case.objects.get(pk=old_case.pk).description == f"Help me {CANARY}"


def test_the_sweep_keeps_the_key_of_a_case_made_long_ago():
    case = new_case()
    long_ago = timezone.now() - timedelta(days=1)
    DataKey.objects.update(created_at=long_ago)
    output = io.StringIO()
    call_command("sweep_keys", stdout=output)
    assert output.getvalue() == f"{encryption.KEY_RESERVE_SIZE - 1} unused data keys deleted\n"
    assert DataKey.objects.filter(pk=case.key_id).exists()
    assert DataKey.objects.count() == 1
