"""The reports as every coordinator shares them: drawn once per figures and language,
with nothing of one coordinator in what the next one is served."""

import re
from datetime import timedelta

from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from helpdesk import queue, report_views, reports, tasks
from helpdesk.roles import Role
from tests.conftest import make_staff, sign_in
from tests.helpdesk.test_desk import new_case
from tests.helpdesk.test_reports import DAY, START, T0, at
from tests.helpdesk.test_reports import desk as desk  # noqa: F401  (a fixture)
from tests.helpdesk.test_reports import fixture as fixture  # noqa: F401  (a fixture)

HEALTH = {"start": START, "end": START + 13 * DAY}
REVIEW = {"start": START, "end": START + 20 * DAY}


def other_coordinator(email: str = "other@haven.test", **headers) -> Client:
    client = Client(**headers)
    sign_in(client, make_staff(email, Role.COORDINATOR))
    return client


def csrf_token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def drawn(response) -> bool:
    """Whether this request drew the report itself (rather than serving the drawing)."""
    return any(t.name.startswith("helpdesk/reports/_") for t in response.templates)


def test_a_report_is_drawn_once_and_served_to_every_coordinator(coordinator_client, desk):
    with at(T0 + 10 * DAY):
        first = coordinator_client.get(reverse("report_health"), HEALTH)
        second = other_coordinator().get(reverse("report_health"), HEALTH)
    assert drawn(first) and not drawn(second)
    mine, theirs = first.content.decode(), second.content.decode()
    assert "2025-W10" in theirs and theirs.count('class="chart chart--') == 3 and "fa · " in theirs
    # Each page carries its own coordinator's sign-out token, never the first one's.
    assert csrf_token(mine) != csrf_token(theirs) and csrf_token(mine) not in theirs
    assert "coordinator@example.org" not in theirs


def test_nothing_personal_lands_in_the_shared_drawing(coordinator_client, fixture):
    with at(T0 + 20 * DAY):
        page = coordinator_client.get(reverse("report_referrals"), REVIEW).content.decode()
    token = csrf_token(page)
    with at(T0 + 20 * DAY):
        form = report_views.ReferralFilterForm(REVIEW)
        assert form.is_valid()
        key = report_views.figures_key("referrals", form)
        computed_at, body = cache.get(f"{key}:body:en:1")
    assert "Referral outcomes" in body and "Alpha" in body
    assert token not in body and "csrfmiddlewaretoken" not in body
    assert "coordinator@example.org" not in body


def test_each_language_gets_its_own_drawing(coordinator_client, desk):
    with at(T0 + 10 * DAY):
        english = coordinator_client.get(reverse("report_health"), HEALTH).content.decode()
        dutch = (
            other_coordinator(HTTP_ACCEPT_LANGUAGE="nl")
            .get(reverse("report_health"), HEALTH)
            .content.decode()
        )
    assert "Figures as of 09:00" in english and "Cijfers bijgewerkt om 09:00" in dutch
    assert "Cijfers" not in english


def test_the_folded_filters_stay_folded_for_the_default_view(coordinator_client, desk):
    with at(T0 + 10 * DAY):
        plain = coordinator_client.get(reverse("report_health")).content.decode()
        chosen = coordinator_client.get(reverse("report_health"), HEALTH).content.decode()
        again = other_coordinator().get(reverse("report_health")).content.decode()
    assert '<details class="panel filters-box">' in plain
    assert '<details class="panel filters-box" open>' in chosen
    assert '<details class="panel filters-box">' in again


def test_presets_offer_the_last_90_days_and_two_years(coordinator_client, desk):
    with at(T0 + 10 * DAY):
        page = coordinator_client.get(reverse("report_referrals")).content.decode()
    two_years = (T0 + 10 * DAY - timedelta(days=729)).date().isoformat()
    assert f'href="{reverse("report_referrals")}?start={two_years}"' in page
    with at(T0 + 10 * DAY):
        response = coordinator_client.get(reverse("report_referrals"), {"start": two_years})
    assert response.context["review"].start.isoformat() == two_years


# Never cold: stale figures served while one process renews them -------------------------


def cases_shown(response) -> int:
    return response.context["health"].cases


def test_stale_figures_are_served_and_renewed_once(coordinator_client, desk, monkeypatch, settings):
    """Past five minutes the figures are still served, at once, and one renewal is
    queued however many coordinators ask meanwhile; the next page has the new figures
    and says when they were computed."""
    queued = []
    monkeypatch.setattr(queue, "enqueue", lambda task, *args: queued.append((task, args)) or True)
    settings.CELERY_TASK_ALWAYS_EAGER = False  # as in production: a worker renews
    with at(T0 + 10 * DAY):
        assert cases_shown(coordinator_client.get(reverse("report_health"), HEALTH)) == 3
        new_case(need="leave", languages=("ar",))
    later = T0 + 10 * DAY + timedelta(minutes=6)
    with at(later):
        stale = [
            client.get(reverse("report_health"), HEALTH)
            for client in (
                coordinator_client,
                other_coordinator(),
                other_coordinator("third@haven.test"),
            )
        ]
    assert [cases_shown(response) for response in stale] == [3, 3, 3]
    assert "Figures as of 09:00" in stale[0].content.decode()
    assert len(queued) == 1
    task, args = queued[0]
    assert task == "refresh_report" and args[0] == "health"
    with at(later):
        tasks.refresh_report(*args)  # the worker
        renewed = coordinator_client.get(reverse("report_health"), HEALTH)
    assert cases_shown(renewed) == 4 and "Figures as of 09:06" in renewed.content.decode()


def test_in_the_embedded_default_stale_figures_are_renewed_in_the_request(coordinator_client, desk):
    with at(T0 + 10 * DAY):
        coordinator_client.get(reverse("report_health"), HEALTH)
        new_case(need="leave", languages=("ar",))
    with at(T0 + 10 * DAY + timedelta(minutes=6)):
        assert cases_shown(coordinator_client.get(reverse("report_health"), HEALTH)) == 4


def test_the_warm_up_computes_the_standard_views_ahead(coordinator_client, desk):
    two_years = (T0 + 10 * DAY - timedelta(days=729)).date().isoformat()
    with at(T0 + 10 * DAY):
        assert tasks.warm_up_reports() == 4  # two reports, each over 90 days and two years
        assert tasks.warm_up_reports() == 4  # every run renews them
        for url in (reverse("report_health"), reverse("report_referrals")):
            for params in ({}, {"start": two_years}):
                with CaptureQueriesContext(connection) as queries:
                    response = coordinator_client.get(url, params)
                assert response.status_code == 200
                assert not any(
                    table in query["sql"]
                    for query in queries.captured_queries
                    for table in ("helpdesk_case", "helpdesk_referral")
                )
        assert cases_shown(coordinator_client.get(reverse("report_health"))) == 3


def test_the_beat_runs_the_warm_up_more_often_than_figures_go_stale():
    entry = next(
        entry
        for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "helpdesk.tasks.warm_up_reports"
    )
    assert entry["schedule"] < report_views.FRESH_SECONDS


def computations(monkeypatch) -> list:
    """Counts the desk health computations (and still runs them)."""
    calls, real = [], reports.desk_health
    monkeypatch.setattr(reports, "desk_health", lambda **kw: calls.append(kw) or real(**kw))
    return calls


def health_form() -> report_views.PeriodForm:
    form = report_views.PeriodForm(HEALTH)
    assert form.is_valid()
    return form


def test_a_second_first_request_waits_for_the_first_ones_figures(
    coordinator_client, desk, monkeypatch
):
    """Another process holds the lock and is computing: this request waits for its
    figures instead of computing them a second time."""
    calls = computations(monkeypatch)
    with at(T0 + 10 * DAY):
        form = health_form()
        assert report_views.start_computing(report_views.figures_key("health", form))
        # The other process finishes while this request waits.
        monkeypatch.setattr(
            report_views.time, "sleep", lambda s: calls or report_views.compute("health", form)
        )
        response = coordinator_client.get(reverse("report_health"), HEALTH)
    assert cases_shown(response) == 3 and len(calls) == 1


def test_the_wait_for_another_computation_is_bounded(coordinator_client, desk, monkeypatch):
    calls = computations(monkeypatch)
    monkeypatch.setattr(report_views, "COLD_WAIT_SECONDS", 0.3)
    monkeypatch.setattr(report_views, "WAIT_STEP_SECONDS", 0.05)
    with at(T0 + 10 * DAY):
        # A lock whose holder died: after the wait, the request computes the figures.
        report_views.start_computing(report_views.figures_key("health", health_form()))
        response = coordinator_client.get(reverse("report_health"), HEALTH)
    assert cases_shown(response) == 3 and len(calls) == 1
