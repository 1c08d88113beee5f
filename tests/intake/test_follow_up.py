import re
import time
from datetime import timedelta

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from helpdesk.models import Case, Message
from intake import receipts
from tests.intake.conftest import CANARY, receipt_in


def open_case(client: Client, receipt: str):
    return client.post(reverse("intake:follow_up"), {"receipt": receipt})


def test_a_receipt_opens_the_inbox_and_staff_replies_appear(submit, client, volunteer):
    receipt = receipt_in(submit())
    case = Case.objects.get()
    case.claim(by=volunteer)
    case.reply("Hello, we read your message.", by=volunteer)

    visitor = Client()
    response = open_case(visitor, receipt)
    assert response.status_code == 302 and response.url == reverse("intake:inbox") + "#main"
    page = visitor.get(reverse("intake:inbox")).content.decode()
    assert CANARY in page
    assert "Hello, we read your message." in page
    assert "A volunteer is working on your case" in page


def test_shared_guidance_reads_as_a_page_not_as_markdown(submit, volunteer):
    receipt = receipt_in(submit())
    case = Case.objects.get()
    case.claim(by=volunteer)
    case.share_guidance(
        by=volunteer,
        title="بعد الرفض",
        text="## الاستئناف\n\nاتصل بـ [محامٍ](https://www.avocats.be/fr/aide-juridique) **اليوم**.",
        language="ar",
    )
    # What the person typed is never rendered as Markdown, even when it looks like it.
    case.add_submitter_message("**not bold** [not a link](https://x.example)")

    visitor = Client()
    open_case(visitor, receipt)
    page = visitor.get(reverse("intake:inbox")).content.decode()

    shared = page.split('bubble__text--guidance" lang="ar" dir="rtl">')[1].split("</div>")[0]
    assert "<h3>بعد الرفض</h3>" in shared and "<h4>الاستئناف</h4>" in shared
    assert '<a href="https://www.avocats.be/fr/aide-juridique" rel="noopener noreferrer">' in shared
    assert '<span class="link-address" dir="ltr">avocats.<wbr>be/' in shared
    assert "<strong>اليوم</strong>" in shared
    assert "##" not in shared and "](" not in shared
    assert "The volunteer shared this guide with you" in page
    assert "**not bold** [not a link](https://x.example)" in page
    assert 'href="https://x.example"' not in page


def test_typing_is_forgiving(submit):
    receipt = receipt_in(submit())
    sloppy = receipt.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    response = open_case(Client(), f"  {sloppy} ")
    assert response.status_code == 302


def test_the_receipt_is_never_in_a_url_or_the_session(submit):
    receipt = receipt_in(submit())
    visitor = Client()
    response = open_case(visitor, receipt)
    assert receipt not in response.url
    session = visitor.session
    assert receipt not in str(dict(session.items()))
    assert receipts.normalize(receipt) not in str(dict(session.items()))


def test_the_submitter_answers_and_it_reaches_the_case(submit):
    receipt = receipt_in(submit())
    visitor = Client()
    open_case(visitor, receipt)
    response = visitor.post(reverse("intake:inbox"), {"body": "Thank you. More details."})
    assert response.status_code == 302
    message = Message.objects.get()
    assert message.author == Message.Author.SUBMITTER
    assert message.body == "Thank you. More details."
    empty = visitor.post(reverse("intake:inbox"), {"body": "  "})
    assert empty.status_code == 400
    assert "Please write something" in empty.content.decode()


def test_a_wrong_receipt_says_the_same_as_a_deleted_one(submit):
    receipt = receipt_in(submit())
    visitor = Client()
    wrong = open_case(visitor, "AAAA-BBBB-CCCC-DDDD-EEEE").content.decode()
    malformed = open_case(visitor, "hello").content.decode()
    open_case(visitor, receipt)
    visitor.post(reverse("intake:delete"), {"confirm": "yes"})
    deleted = open_case(Client(), receipt).content.decode()
    message = "We could not open a case with this code"
    assert message in wrong and message in malformed and message in deleted


def test_strangers_wrong_codes_never_keep_a_person_out(submit, settings):
    # One mobile carrier's address, one café's Wi-Fi, one Tor exit: a stranger's 45
    # wrong codes from the address a person shares must not refuse their receipt.
    settings.RECEIPT_FAILURE_DELAY_MAX_SECONDS = 0.01
    receipt = receipt_in(submit())
    stranger = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(45):
        assert open_case(stranger, "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF").status_code == 400
    person = Client(REMOTE_ADDR="203.0.113.9")
    assert open_case(person, receipt).url == reverse("intake:inbox") + "#main"


def test_a_flood_from_many_addresses_slows_nobody_else(submit, settings):
    receipt = receipt_in(submit())
    for number in range(30):
        open_case(Client(REMOTE_ADDR=f"192.0.2.{number}"), "AAAA-BBBB-CCCC-DDDD-EEEE")
    # Neither an address that failed during the flood nor a new one waits or is refused.
    for address in ("192.0.2.0", "192.0.2.200"):
        started = time.monotonic()
        assert open_case(Client(REMOTE_ADDR=address), receipt).status_code == 302
        assert time.monotonic() - started < 0.2


def timed_look_up(client: Client, receipt: str) -> float:
    started = time.monotonic()
    open_case(client, receipt)
    return time.monotonic() - started


def test_a_flooding_address_waits_longer_with_each_failure_up_to_a_bound(submit, settings):
    settings.RECEIPT_FAILURE_DELAY_MAX_SECONDS = 0.6
    receipt = receipt_in(submit())
    flooder = Client(REMOTE_ADDR="203.0.113.50")
    for _ in range(settings.RECEIPT_FAILURES_PER_ADDRESS):
        assert timed_look_up(flooder, "AAAA-BBBB-CCCC-DDDD-EEEE") < 0.2  # free tries
    waits = [timed_look_up(flooder, "AAAA-BBBB-CCCC-DDDD-EEEE") for _ in range(4)]
    assert waits[0] >= 0.25
    assert waits[1] >= 0.5
    assert all(wait < 0.6 + 0.3 for wait in waits)  # never more than the bound
    # The right receipt waits as a wrong one does (hanging up early tells a guesser
    # nothing), and then opens.
    started = time.monotonic()
    assert open_case(Client(REMOTE_ADDR="203.0.113.50"), receipt).status_code == 302
    assert time.monotonic() - started >= 0.6
    # Other addresses do not wait.
    assert timed_look_up(Client(REMOTE_ADDR="198.51.100.4"), receipt) < 0.2


def test_a_right_receipt_after_a_few_wrong_ones_works(submit):
    receipt = receipt_in(submit())
    visitor = Client()
    for _ in range(3):
        open_case(visitor, "AAAA-BBBB-CCCC-DDDD-EEEE")
    assert open_case(visitor, receipt).status_code == 302


def test_new_receipts_have_120_bits_in_six_groups(submit):
    receipt = receipt_in(submit())
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){5}[0-9A-HJKMNP-TV-Z]{4}", receipt)


def test_a_receipt_of_100_bits_made_before_still_opens_its_case(submit):
    receipt_in(submit())
    old = "7K2MXQ4P9ZBC3D5FGH6J"  # 20 characters, as receipts were made until now
    Case.objects.update(receipt_hash=receipts.receipt_hash(old))
    assert open_case(Client(), "7k2m-xq4p-9zbc-3d5f-gh6j").status_code == 302


def test_the_inbox_closes_after_20_idle_minutes(submit):
    receipt = receipt_in(submit())
    visitor = Client()
    open_case(visitor, receipt)
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=19)):
        assert visitor.get(reverse("intake:inbox")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=19 + 21)):
        response = visitor.get(reverse("intake:inbox"))
        assert response.status_code == 302
        assert response.url == reverse("intake:follow_up")


def test_leaving_ends_the_inbox(submit):
    receipt = receipt_in(submit())
    visitor = Client()
    open_case(visitor, receipt)
    visitor.post(reverse("intake:leave"))
    assert visitor.get(reverse("intake:inbox")).url == reverse("intake:follow_up")


def test_deleting_destroys_content_and_keeps_statistics(submit, volunteer):
    receipt = receipt_in(submit())
    case = Case.objects.get()
    case.claim(by=volunteer)
    case.reply("A reply", by=volunteer)
    visitor = Client()
    open_case(visitor, receipt)
    confirm = visitor.get(reverse("intake:delete"))
    assert "cannot be undone" in confirm.content.decode()
    assert Case.objects.get().description  # asking is not deleting
    done = visitor.post(reverse("intake:delete"), {"confirm": "yes"})
    assert "has been deleted" in done.content.decode()

    case.refresh_from_db()
    assert case.description == "" and case.content_destroyed
    assert not Message.objects.filter(case=case).exists()
    assert case.status == Case.Status.CLOSED
    assert (case.need.slug, case.country, case.languages) == ("asylum-be", "UG", ["en", "fr"])
    assert visitor.get(reverse("intake:inbox")).status_code == 302


def test_the_case_remembers_the_submitters_language(client, db, library):
    from tests.intake.conftest import concern

    client.post(reverse("set_language"), {"language": "ar"})
    response = client.post(reverse("intake:write"), concern(language_1="ar"), follow=True)
    receipt = receipt_in(response)
    assert Case.objects.get().language == "ar"

    fresh = Client()  # another day, another browser, English by default
    response = open_case(fresh, receipt)
    page = fresh.get(reverse("intake:inbox"))
    assert '<html lang="ar" dir="rtl">' in page.content.decode()
