"""A referral closes at the source: a volunteer sends it through Haven to a French-speaking
partner, the partner opens the link from its email, accepts, and later records how it
ended; the volunteer and a coordinator read it on the case page. axe on every page."""

from datetime import date

from django.core import mail

from helpdesk.models import Case, Referral
from helpdesk.roles import Role
from resources.loader import LoadReport, load_resources, load_template
from tests.browser.conftest import PHONE, assert_accessible, screenshot
from tests.browser.test_desk_day import sign_in
from tests.conftest import make_staff
from tests.helpdesk.test_desk import new_case, trained
from tests.helpdesk.test_partners import add_partner, link_in

MESSAGE = """Bonjour l'équipe de {organisation},

Une personne que nous accompagnons envisage une demande d'asile en Belgique. {consent}
Son besoin : {need}. Pays : {country}. Langues : {languages}.

Pourriez-vous nous dire si vous pouvez l'aider ? Merci de répondre avec notre référence
{case_reference}.

{volunteer_first_name}, bénévole"""


def a_french_partner():
    """A made-up partner, loaded as a content file would be, with a message in French."""
    partner = add_partner("maison-arc-en-ciel", works_in=("fr",), answer_days=3, countries=[])
    load_template(
        {
            "slug": "maison-arc-en-ciel-request",
            "organisation": partner.slug,
            "need": "asylum-be",
            "source_language": "fr",
            "translations": {
                "fr": {
                    "subject": "Orientation depuis Haven, référence {case_reference}",
                    "consent": "Elle a accepté que nous vous contactions.",
                    "body": MESSAGE,
                }
            },
            "sources": [
                {
                    "url": "https://example.org/agreement",
                    "title": "A made-up agreement, for the test",
                    "checked_on": date(2026, 12, 1),
                    "supports": "Takes referrals through Haven.",
                }
            ],
        },
        update=False,
        report=LoadReport(),
    )
    return partner


def test_a_partner_accepts_and_completes_a_referral_and_the_desk_sees_it(
    transactional_db, live_server, context_factory
):
    load_resources()
    partner = a_french_partner()
    lotte = trained(make_staff("lotte@example.org", Role.VOLUNTEER, first_name="Lotte"),
                    languages=("fr", "en"))  # fmt: skip
    cora = make_staff("cora@example.org", Role.COORDINATOR, first_name="Cora")
    case = new_case(need="asylum-be", languages=("fr", "en"), volunteer=lotte)

    # The volunteer chooses the partner's template and says the person agreed.
    desk = context_factory().new_page()
    sign_in(desk, live_server.url, lotte)
    desk.goto(live_server.url + f"/desk/cases/{case.reference}/#referrals")
    entry = desk.locator("ul.template-list li", has_text=partner.name)
    assert "takes referrals through Haven" in entry.inner_text()
    assert "answers in French" in entry.inner_text()
    entry.get_by_role("link", name=partner.name).click()
    assert_accessible(desk)
    screenshot(desk, "partner-01-consent-question")
    desk.get_by_label("Yes, they agreed").check()
    desk.get_by_role("button", name="Write the message").click()
    body = desk.locator("#id_body")
    assert "Elle a accepté que nous vous contactions." in body.input_value()
    assert desk.locator("#id_consent").is_checked()
    desk.get_by_role("button", name="Record the referral").click()
    desk.get_by_role("button", name="Send through Haven").click()
    assert "has been emailed a link" in desk.locator(".messages").inner_text()
    assert_accessible(desk)
    screenshot(desk, "partner-02-sent")

    # The partner opens the link from its email, on a phone, in French.
    email = mail.outbox[-1]
    assert email.to == [partner.referral_address]
    assert case.reference not in email.body
    phone = context_factory(viewport=PHONE, locale="fr-BE").new_page()
    phone.goto(live_server.url + link_in(email))
    assert phone.locator("html").get_attribute("lang") == "fr"
    assert "Son besoin" in phone.locator("main").inner_text()
    assert_accessible(phone)
    screenshot(phone, "partner-03-page-phone")
    phone.get_by_role("button", name="Accepter l'orientation").click()
    assert phone.locator(".messages").is_visible()
    assert_accessible(phone)
    screenshot(phone, "partner-04-accepted-phone")

    # Later, the partner says how it ended.
    phone.goto(live_server.url + link_in(email))
    outcome = "Elle a rencontré notre avocate le 12 mars."
    phone.get_by_label("Comment cela s'est terminé").fill(outcome)
    phone.get_by_role("button", name="Marquer comme terminée").click()
    assert_accessible(phone)
    screenshot(phone, "partner-05-completed-phone")

    referral = Referral.objects.get(case=case)
    assert referral.status == Referral.Status.COMPLETED
    assert [e.by_partner for e in referral.events.all()] == [False, False, True, True]

    # The volunteer reads it on the case page.
    desk.goto(live_server.url + f"/desk/cases/{case.reference}/")
    panel = desk.locator(".referral", has_text=partner.name)
    assert "Completed" in panel.inner_text()
    assert "Elle a rencontré notre avocate le 12 mars." in panel.inner_text()
    assert "(the partner)" in panel.inner_text()
    assert_accessible(desk)
    screenshot(desk, "partner-06-volunteer-sees-it")

    # So does a coordinator.
    coordinator = context_factory().new_page()
    sign_in(coordinator, live_server.url, cora)
    coordinator.goto(live_server.url + f"/desk/cases/{case.reference}/#referrals")
    panel = coordinator.locator(".referral", has_text=partner.name)
    assert "Completed" in panel.inner_text() and "(the partner)" in panel.inner_text()
    assert_accessible(coordinator)
    screenshot(coordinator, "partner-07-coordinator-sees-it")
    assert Case.objects.get(pk=case.pk).status == Case.Status.REFERRED
