"""The access log: one entry per meaningful action (a view once per quarter of an hour, not once
per redirect); a desk-wide log for coordinators, filtered, paged, exported as CSV, with
no content in it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from helpdesk.models import AccessLogEntry
from helpdesk.roles import Role
from tests.conftest import make_staff, sign_in
from tests.helpdesk.test_desk import CANARY, new_case, trained

A = AccessLogEntry.Action


def actions(case, user) -> list[str]:
    rows = AccessLogEntry.objects.filter(case=case, user=user).order_by("at", "pk")
    return list(rows.values_list("action", flat=True))


def test_a_volunteers_work_is_one_entry_per_action(volunteer_client, volunteer):
    case = new_case(volunteer=trained(volunteer))
    url = reverse("case", args=[case.reference])
    volunteer_client.get(url)
    for body in ("First answer", "Second answer"):
        volunteer_client.post(reverse("case_reply", args=[case.reference]), {"body": body})
        volunteer_client.get(url)  # back on the case after each answer
    volunteer_client.post(reverse("case_note", args=[case.reference]), {"body": "A note"})
    volunteer_client.get(url)
    assert actions(case, volunteer) == [A.VIEW, A.REPLY, A.REPLY, A.NOTE]

    # Coming back later is a new reading, and logged again.
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        volunteer_client.get(url)
    assert actions(case, volunteer)[-1] == A.VIEW and len(actions(case, volunteer)) == 5


def test_the_desk_wide_log_is_filtered_paged_and_exported(coordinator_client, coordinator):
    amira = trained(make_staff("amira@example.org", Role.VOLUNTEER, first_name="Amira"))
    basma = trained(make_staff("basma@example.org", Role.VOLUNTEER, first_name="=Basma"))
    first = new_case(volunteer=amira)
    second = new_case(volunteer=basma)
    first.reply(f"Hello {CANARY}", by=amira)
    second.add_note(f"Note {CANARY}", by=basma)
    url = reverse("access_log")

    page = coordinator_client.get(url).content.decode()
    assert first.reference in page and second.reference in page
    assert CANARY not in page

    by_amira = coordinator_client.get(url, {"person": amira.pk}).content.decode()
    assert first.reference in by_amira and second.reference not in by_amira
    notes = coordinator_client.get(url, {"action": "note"}).content.decode()
    assert second.reference in notes and first.reference not in notes
    one_case = coordinator_client.get(url, {"case": second.reference.lower()}).content.decode()
    assert second.reference in one_case and first.reference not in one_case
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    empty = coordinator_client.get(url, {"start": tomorrow}).content.decode()
    assert "Nothing in the log matches these filters." in empty
    wrong = coordinator_client.get(url, {"start": tomorrow, "end": "2020-01-01"})
    assert wrong.status_code == 400 and "The end comes before the start." in wrong.content.decode()

    exported = coordinator_client.get(url, {"person": basma.pk, "format": "csv"})
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[0] == ["when", "who", "case", "what"]
    assert {row[2] for row in rows[1:]} == {second.reference}
    assert {row[3] for row in rows[1:]} == {"note"}
    assert all(row[1] == basma.email for row in rows[1:])
    assert CANARY not in exported.content.decode()


def test_the_log_is_paged(coordinator_client, volunteer):
    case = new_case(volunteer=trained(volunteer, capacity=100))
    for _ in range(60):
        AccessLogEntry.objects.record(case, volunteer, A.REPLY)
    page = coordinator_client.get(reverse("access_log")).content.decode()
    assert "Page 1 of 2" in page
    assert coordinator_client.get(reverse("access_log"), {"page": 2}).status_code == 200


def test_only_coordinators_read_the_desk_wide_log(client, volunteer, outsider):
    sign_in(client, volunteer)
    assert client.get(reverse("access_log")).status_code == 403
    half = Client()
    half.force_login(outsider)
    assert half.get(reverse("access_log")).status_code in (302, 403)
