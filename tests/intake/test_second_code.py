"""The receipt shown once (post/redirect/get), the second code and its decoy inbox, and
the mark the desk sees."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from helpdesk.models import Case
from intake import decoy, receipts, throttle
from tests.conftest import sign_in
from tests.helpdesk.test_desk import new_case
from tests.intake.conftest import CANARY, concern, receipt_in, second_code_in


def visible(html: str) -> str:
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    body = re.sub(r"<script.*?</script>|<[^>]+>", " ", html.split("<body", 1)[1], flags=re.S)
    return f"{title} {body}"


def make_second_code(client: Client, receipt: str) -> str:
    made = client.post(reverse("intake:second_code_after_writing"), {"receipt": receipt})
    assert made.status_code == 302 and made.url == reverse("intake:write") + "#main"
    return second_code_in(client.get(made.url))


def open_with(code: str, **client_options) -> Client:
    visitor = Client(**client_options)
    answer = visitor.post(reverse("intake:follow_up"), {"receipt": code})
    assert answer.status_code == 302 and answer.url == reverse("intake:inbox") + "#main"
    return visitor


# -- The receipt, once ----------------------------------------------------------------


def test_the_receipt_is_shown_once_after_a_redirect_and_back_shows_a_blank_form(client, db):
    answer = client.post(reverse("intake:write"), concern())
    assert answer.status_code == 302 and answer.url == reverse("intake:write") + "#main"
    assert not re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}", answer.url + answer.content.decode())
    replay = client.cookies[receipts.ONCE_COOKIE].value

    shown = client.get(reverse("intake:write"))
    receipt = receipt_in(shown)
    assert receipt not in str(shown.cookies)  # the page deletes its cookie
    assert client.cookies[receipts.ONCE_COOKIE].value == ""

    # Back (or a reload) after the quick exit: a blank form, nothing about a message sent.
    for page in (client.get(reverse("intake:write")), client.get(reverse("intake:write"))):
        text = page.content.decode()
        assert page.status_code == 200 and 'class="concern-form"' in text
        assert "receipt-code" not in text and "already" not in text.lower()
    # The cookie copied and sent again shows nothing either.
    client.cookies[receipts.ONCE_COOKIE] = replay
    assert "receipt-code" not in client.get(reverse("intake:write")).content.decode()
    assert Case.objects.count() == 1


def test_a_cookie_not_made_for_the_page_shows_nothing(client, db):
    client.cookies[receipts.ONCE_COOKIE] = "bm90IGEgcmVhbCBjb29raWU="
    page = client.get(reverse("intake:write"))
    assert page.status_code == 200 and "receipt-code" not in page.content.decode()


# -- The second code --------------------------------------------------------------------


@pytest.fixture
def person(client, db, volunteer):
    """A person who wrote, made a second code, and got an answer."""
    receipt = receipt_in(client.post(reverse("intake:write"), concern(), follow=True))
    second = make_second_code(client, receipt)
    case = Case.objects.get()
    case.claim(by=volunteer)
    case.reply(f"We read you {CANARY}-reply", by=volunteer)
    return {"receipt": receipt, "second": second, "case": case}


def test_the_second_code_is_stored_only_as_a_keyed_hash(person):
    case = Case.objects.get()
    assert case.duress_hash == receipts.receipt_hash(receipts.normalize(person["second"]))
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM helpdesk_case")
        row = " ".join(map(str, cursor.fetchone()))
    assert receipts.normalize(person["second"]) not in row and person["second"] not in row


def test_the_second_code_opens_a_decoy_and_marks_the_case(person):
    case = person["case"]
    assert not case.under_duress
    visitor = open_with(person["second"])
    page = visitor.get(reverse("intake:inbox"))
    text = page.content.decode()
    assert page.status_code == 200
    assert decoy.texts("en")["answered"].split(".")[0] in text
    # Nothing real: no content, no reply, no reference, no need, no desk, no way out.
    for real in (CANARY, case.reference, case.need.name, 'href="/"', 'href="/guide', "exit.js",
                 "quick-exit", "language-form"):  # fmt: skip
        assert real not in text, real
    seen = visible(text)  # the tab's title and what the page says
    for word in ("haven", "leave this site", "volunteer", "case", "help", "lgbt", "asylum"):
        assert word not in seen.lower(), word
    case.refresh_from_db()
    assert case.under_duress
    # The receipt still opens the real inbox.
    real = open_with(person["receipt"]).get(reverse("intake:inbox")).content.decode()
    assert CANARY in real and "reply" in real


def test_what_is_typed_in_the_decoy_stays_there(person):
    visitor = open_with(person["second"])
    visitor.post(reverse("intake:inbox"), {"body": "All fine, thanks"})
    assert "All fine, thanks" in visitor.get(reverse("intake:inbox")).content.decode()
    assert not person["case"].messages.filter(body__contains="All fine").exists()
    assert person["case"].messages.count() == 1


def test_decoy_pages_reach_nothing_real(person):
    visitor = open_with(person["second"])
    for path in ("intake:follow_up", "intake:delete"):
        text = visitor.get(reverse(path), follow=True).content.decode()
        assert CANARY not in text and person["case"].reference not in text
    made = visitor.post(reverse("intake:second_code"))
    assert made.url == reverse("intake:inbox")  # no code is made from a decoy
    assert Case.objects.get().duress_hash == person["case"].duress_hash
    left = visitor.post(reverse("intake:leave")).content.decode()
    assert decoy.texts("en")["signed_out"] in left and "Leave this site" not in left


def test_deleting_the_decoy_retires_the_second_code_and_keeps_the_case(person):
    visitor = open_with(person["second"])
    done = visitor.post(reverse("intake:delete"), {"confirm": "yes"}).content.decode()
    assert decoy.texts("en")["deleted"] in done
    case = Case.objects.get()
    assert not case.content_destroyed and case.under_duress and case.duress_hash is None
    refused = Client().post(reverse("intake:follow_up"), {"receipt": person["second"]})
    assert "We could not open a case with this code" in refused.content.decode()
    assert open_with(person["receipt"])


def test_the_decoy_speaks_the_persons_language(client, db):
    client.post(reverse("set_language"), {"language": "fa"})
    receipt = receipt_in(client.post(reverse("intake:write"), concern(), follow=True))
    second = make_second_code(client, receipt)
    text = open_with(second).get(reverse("intake:inbox")).content.decode()
    assert '<html lang="fa" dir="rtl">' in text
    assert decoy.texts("fa")["status"] in text


def test_every_decoy_is_complete_and_says_nothing_of_the_desk():
    english = set(decoy.TEXTS["en"])
    words = ("lgbt", "gay", "lesbian", "trans", "queer", "asylum", "haven", "help desk",
             "volunteer", "case", "danger", "safe")  # fmt: skip
    for language, texts in decoy.TEXTS.items():
        assert set(texts) == english, language
        assert all(text.strip() for text in texts.values()), language
        if language != "en":  # a decoy half in English would give the person away
            assert not set(texts.values()) & set(decoy.TEXTS["en"].values()), language
    for text in decoy.TEXTS["en"].values():
        assert not any(word in text.lower() for word in words), text


def test_a_second_code_can_be_made_later_from_the_inbox_and_replaces_the_first(person):
    visitor = open_with(person["receipt"])
    made = visitor.post(reverse("intake:second_code"))
    page = visitor.get(made.url)
    newer = second_code_in(page)
    assert newer != person["second"]
    # Shown once: the next visit offers to make one, and shows none.
    assert 'id="second-code"' not in visitor.get(reverse("intake:inbox")).content.decode()
    refused = Client().post(reverse("intake:follow_up"), {"receipt": person["second"]})
    assert refused.status_code == 400
    open_with(newer)
    assert Case.objects.get().under_duress


# -- The same work, whatever the code ----------------------------------------------------


def look_up(code: str, monkeypatch) -> dict:
    """What one look-up did: HMACs computed, waits asked for, SQL statements (without
    their values) and what the answer looked like."""
    digests, waits = [], []
    real_digest, real_wait = receipts._digest, throttle.wait
    monkeypatch.setattr(receipts, "_digest", lambda *a: digests.append(1) or real_digest(*a))
    monkeypatch.setattr(throttle, "wait", lambda request: waits.append(1) or real_wait(request))
    visitor = Client()
    with CaptureQueriesContext(connection) as queries:
        answer = visitor.post(reverse("intake:follow_up"), {"receipt": code})
    monkeypatch.undo()
    # Values out (PostgreSQL's log shows them bound in): only the statements' shape stays.
    values = r"'[^']*'|\b\d+\b|\btrue\b|\bfalse\b|\"s\d+_x\d+\""
    statements = [re.sub(values, "?", q["sql"]) for q in queries]
    return {
        "digests": len(digests),
        "waits": len(waits),
        "case_sql": [s for s in statements if "helpdesk_case" in s],
        "all_sql": statements,
        "status": answer.status_code,
        "location": answer.get("Location"),
        "cookies": sorted(answer.cookies),
    }


def test_real_second_and_wrong_codes_do_the_same_work(person, monkeypatch):
    real = look_up(person["receipt"], monkeypatch)
    second = look_up(person["second"], monkeypatch)
    wrong = look_up(receipts.display(receipts.new_receipt()), monkeypatch)
    malformed = look_up("hello", monkeypatch)
    for other in (second, wrong, malformed):
        # The check itself: the same HMACs, the same wait, the same look-up and the same
        # UPDATE (of no row for a wrong code), statement for statement.
        assert other["digests"] == real["digests"] >= 1
        assert other["waits"] == real["waits"] == 1
        assert other["case_sql"] == real["case_sql"]
        assert [s.split()[0] for s in real["case_sql"]] == ["SELECT", "UPDATE"]
    # The receipt and the second code: indistinguishable in everything that follows too.
    assert second["all_sql"] == real["all_sql"]
    for key in ("status", "location", "cookies"):
        assert second[key] == real[key]


def test_a_second_code_waits_like_a_receipt_and_is_no_failure(person, settings, monkeypatch):
    settings.RECEIPT_FAILURE_DELAY_MAX_SECONDS = 0
    address = "203.0.113.77"
    for _ in range(settings.RECEIPT_FAILURES_PER_ADDRESS + 2):
        Client(REMOTE_ADDR=address).post(reverse("intake:follow_up"), {"receipt": "AAAA-BBBB"})
    slept = []
    monkeypatch.setattr(throttle.time, "sleep", slept.append)
    settings.RECEIPT_FAILURE_DELAY_MAX_SECONDS = 3
    open_with(person["receipt"], REMOTE_ADDR=address)
    open_with(person["second"], REMOTE_ADDR=address)
    assert len(slept) == 2 and slept[0] == slept[1] > 0  # the same wait, before the check
    # Neither counted as a failure: the next wait is no longer than these.
    Client(REMOTE_ADDR=address).post(reverse("intake:follow_up"), {"receipt": person["receipt"]})
    assert slept[2] == slept[0]


# -- The desk -----------------------------------------------------------------------------


def test_the_volunteer_sees_the_mark_at_once_and_is_told_to_make_no_contact(
    person, volunteer_client, coordinator
):
    case = person["case"]
    before = volunteer_client.get(reverse("case", args=[case.reference])).content.decode()
    assert "May be under duress" not in before
    open_with(person["second"])
    page = volunteer_client.get(reverse("case", args=[case.reference])).content.decode()
    assert "May be under duress" in page
    assert "Make no contact outside this inbox" in page
    listing = volunteer_client.get(reverse("desk")).content.decode()
    assert case.reference in listing and "May be under duress" in listing
    coordinating = Client()
    sign_in(coordinating, coordinator)
    listing = coordinating.get(reverse("all_cases")).content.decode()
    assert case.reference in listing and "May be under duress" in listing


def test_destroying_the_case_ends_the_second_code_and_the_mark(person):
    open_with(person["second"])
    case = Case.objects.get()
    case.destroy_content(by_submitter=True)
    case.refresh_from_db()
    assert case.duress_hash is None and not case.under_duress
    refused = Client().post(reverse("intake:follow_up"), {"receipt": person["second"]})
    assert refused.status_code == 400


def test_a_case_made_by_the_desk_has_no_second_code(db):
    assert new_case().duress_hash is None


# -- The page on deleting and the second code -----------------------------------------


@pytest.mark.parametrize("language", ["en", "nl", "fr", "ar", "fa", "ru", "es", "tr"])
def test_the_page_on_deleting_is_written_in_each_language(client, db, settings, language):
    settings.KEY_STORE_BACKUP_DAYS = 6
    client.post(reverse("set_language"), {"language": language})
    page = client.get(reverse("intake:your_data")).content.decode()
    body = page.split('<article class="your-data">')[1].split("</article>")[0]
    assert "6" in body and str(settings.CASE_RETENTION_DAYS) in body
    assert body.count("<h2>") == 3
    if language != "en":  # no English left in another language's page
        for sentence in ("second code", "receipt code", "backup", "history", "delete"):
            assert sentence not in body.lower(), (language, sentence)


def test_the_page_is_reached_from_the_start_page_and_the_inbox(submit, client):
    link = f'href="{reverse("intake:your_data")}"'
    assert link in client.get(reverse("intake:start")).content.decode()
    visitor = Client()
    visitor.post(reverse("intake:follow_up"), {"receipt": receipt_in(submit())})
    assert link in visitor.get(reverse("intake:inbox")).content.decode()
