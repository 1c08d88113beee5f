"""Every page, public and staff, in a left-to-right and a right-to-left language: no id
appears twice (a label would point at the wrong box), and every form control a person
fills in has a name a screen reader can say. Also with errors on the page."""

from __future__ import annotations

from collections import Counter

import pytest
from django.test import Client
from django.urls import reverse

from bench.fuzz import parse
from helpdesk.models import Case
from helpdesk.roles import Role
from intake import receipts
from resources.models import Guidance, Need, Organisation, ReferralTemplate
from tests.conftest import make_staff, sign_in
from tests.helpdesk.test_desk import new_case, trained
from tests.helpdesk.test_headers import desk, staff_paths  # noqa: F401 - a fixture
from tests.intake.conftest import concern

FILLED = {"input", "select", "textarea"}
NOT_FILLED = {"hidden", "submit", "button", "reset", "image"}


def problems(page: str) -> list[str]:
    root = parse(page)
    nodes = list(root.walk())
    ids = Counter(node.attrs["id"] for node in nodes if node.attrs.get("id"))
    found = [f"id {name!r} appears {count} times" for name, count in ids.items() if count > 1]
    labelled = {node.attrs.get("for") for node in nodes if node.tag == "label"}
    for node in nodes:
        if node.tag not in FILLED or node.attrs.get("type", "text") in NOT_FILLED:
            continue
        named = (
            node.attrs.get("id") in labelled
            or node.attrs.get("aria-label", "").strip()
            or node.attrs.get("aria-labelledby", "").strip()
            or node.attrs.get("title", "").strip()
            or any(ancestor.tag == "label" for ancestor in node.ancestors())
        )
        if not named:
            found.append(f"<{node.tag} name={node.attrs.get('name')!r}> has no label")
    return found


def check(client: Client, url: str, language: str, *, post: dict | None = None) -> None:
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    if post is None:
        response = client.get(url, **headers)
    else:
        # A post answered with a redirect (the receipt is shown after one): that page.
        response = client.post(url, post, follow=True, **headers)
    assert response.status_code in (200, 400), (url, response.status_code)
    assert problems(response.content.decode()) == [], (url, language)


LANGUAGES = ["en", "fa"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_public_pages(client, library, language):
    need = Need.objects.first().slug
    pages = [
        reverse("intake:start"),
        reverse("intake:write") + "?for=self",
        reverse("intake:write") + "?for=other",
        reverse("intake:follow_up"),
        reverse("resources:guide"),
        reverse("resources:friend"),
        reverse("resources:need", args=[need]),
        reverse("resources:need_friend", args=[need]),
    ]
    for url in pages:
        check(client, url, language)
    # With every error showing, and the receipt page with its guidance.
    check(client, reverse("intake:write"), language, post={"description": "x"})
    check(client, reverse("intake:follow_up"), language, post={"receipt": "nonsense"})
    check(client, reverse("intake:write"), language, post=concern(submission_key=language))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_persons_inbox(client, library, language):
    receipt = receipts.new_receipt()
    case = new_case()
    Case.objects.filter(pk=case.pk).update(receipt_hash=receipts.receipt_hash(receipt))
    client.post(reverse("intake:follow_up"), {"receipt": receipt})
    check(client, reverse("intake:inbox"), language)
    check(client, reverse("intake:inbox"), language, post={"body": ""})
    check(client, reverse("intake:delete"), language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_staff_pages(client, library, language):
    coordinator = make_staff("coord@example.org", Role.COORDINATOR, first_name="Cora")
    volunteer = trained(make_staff("vic@example.org", Role.VOLUNTEER, first_name="Vic"))
    case = new_case(volunteer=volunteer)
    sign_in(client, coordinator)
    template = ReferralTemplate.objects.filter(need=case.need).first()
    pages = [
        reverse("desk"),
        reverse("pool"),
        reverse("all_cases"),
        reverse("all_cases") + "?status=bogus",
        reverse("case", args=[case.reference]),
        reverse("case_log", args=[case.reference]),
        reverse("referral_new", args=[case.reference]),
        reverse("referral_new", args=[case.reference])
        + (f"?template={template.pk}" if template else ""),
        reverse("team"),
        reverse("team_member", args=[volunteer.pk]),
        reverse("invite_staff"),
        reverse("my_availability"),
        reverse("library_review"),
        reverse("library_piece", args=[Guidance.objects.first().slug]),
        reverse("report_referrals"),
        reverse("report_health"),
        reverse("mfa_index"),
        reverse("admin:index"),
        reverse("admin:resources_guidance_changelist"),
        reverse("admin:resources_guidance_change", args=[Guidance.objects.first().pk]),
        reverse("admin:resources_organisation_change", args=[Organisation.objects.first().pk]),
        reverse("admin:helpdesk_user_change", args=[volunteer.pk]),
    ]
    for url in pages:
        check(client, url, language)
    # The workspace with an error in each of its forms.
    for name in ("case_reply", "case_note", "case_status"):
        check(client, reverse(name, args=[case.reference]), language, post={})
    check(
        client,
        reverse("case_reassign", args=[case.reference]),
        language,
        post={"volunteer": coordinator.pk},
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sign_in_pages(client, db, language):
    check(client, reverse("account_login"), language)
    check(client, reverse("account_login"), language, post={"login": "x", "password": "y"})
    check(client, reverse("account_reset_password"), language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_staff_url_of_the_urlconf(client, library, desk, coordinator, language):  # noqa: F811
    """Every GET-able staff page in the URLconf, as a coordinator sees it."""
    sign_in(client, coordinator)
    checked = 0
    for path in staff_paths(desk):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        assert problems(response.content.decode()) == [], (path, language)
        checked += 1
    assert checked > 40
