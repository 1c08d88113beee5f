from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from helpdesk import cases, partners, referrals
from helpdesk.models import Case, CaseRefused
from intake import decoy, library, receipts, throttle
from intake.forms import ConcernForm, PartnerAnswerForm, ReceiptForm, ReplyForm
from intake.inbox import close_inbox, decoy_case_id, inbox_case, open_inbox
from intake.outage import UNAVAILABLE
from resources.matching import match
from resources.models import Audience


def start(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "intake/start.html",
        {
            "needs": library.localized_needs(get_language()),
            "retention_days": settings.CASE_RETENTION_DAYS,
        },
    )


def concern_page(
    request: HttpRequest, form: ConcernForm, *, status: int = 200, **context
) -> HttpResponse:
    """The concern form. Unfilled, its questions are rendered once per language and
    choice of "for whom" and kept (intake/library.py); filled in, they carry what the
    person typed and are rendered for this response only."""
    template = "intake/partials/concern_fields.html"
    if form.is_bound or not form.choices.complete:
        fields = render_to_string(template, {"form": form})
    else:
        fields = library.remember(
            (
                "concern-fields",
                get_language(),
                form.initial.get("for_whom"),
                form.initial.get("need"),
            ),
            lambda: render_to_string(template, {"form": form}),
        )
    context = {"form": form, "fields": fields, **context}
    return render(request, "intake/write.html", context, status=status)


@never_cache
def write(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        shown = receipts.take_shown_once(request)
        if shown is not None and "receipt" in shown:
            response = receipt_page(request, shown)
        else:
            # From the start page ("for") or from a guide's "Ask a volunteer" ("need").
            for_whom = request.GET.get("for")
            initial = {"for_whom": for_whom} if for_whom in Case.ForWhom.values else {}
            form = ConcernForm(initial=initial)
            chosen = form.choices.need_pk_by_slug.get(request.GET.get("need", ""))
            if chosen is not None:
                form.initial["need"] = chosen
            response = concern_page(request, form)
        receipts.forget_shown_once(request, response)
        return response
    form = ConcernForm(request.POST)
    if not form.is_valid():
        return concern_page(request, form, status=400)
    data = form.cleaned_data
    # Everything that needs the database comes before the case is saved: once it is
    # saved, nothing may stand between the person and their receipt (a database that
    # went away then would leave a case whose receipt nobody ever saw).
    matched_help(**receipt_facts(data, urgent=form.urgent))
    receipt = receipts.new_receipt()
    try:
        case = cases.submit_concern(
            receipt_hash=receipts.receipt_hash(receipt),
            submission_key=data["submission_key"],
            for_whom=data["for_whom"],
            need=data["need"],
            country=data["country"],
            languages=data["languages"],
            language=get_language(),
            urgent=form.urgent,
            description=data["description"],
            contact_channel=data["contact_channel"],
            contact_details=data["contact_details"],
            contact_safe_times=data["contact_safe_times"],
            contact_code_word=data["contact_code_word"],
        )
    except cases.DuplicateSubmission:
        return render(request, "intake/duplicate.html", status=409)
    # Post/redirect/get: the receipt is shown once by the page this redirects to, which
    # needs no database; Back and reloading show a blank form. Never in a URL or a log.
    return receipt_redirect(case, receipt)


def receipt_facts(data: dict, *, urgent: bool) -> dict:
    """What the receipt page matches guidance by (the same for many cases)."""
    return {
        "need": data["need"].slug,
        "languages": list(data["languages"]),
        "country": data["country"],
        "for_whom": data["for_whom"],
        "in_danger": urgent,
    }


def receipt_redirect(case: Case, receipt: str, second_code: str = "") -> HttpResponse:
    # "#main": the form posted to "#error-summary", which a redirect would otherwise keep.
    response = redirect(reverse("intake:write") + "#main")
    facts = receipt_facts(
        {"need": case.need, "languages": case.languages, "country": case.country,
         "for_whom": case.for_whom},
        urgent=case.urgent,
    )  # fmt: skip
    receipts.show_once(
        response,
        reverse("intake:write"),
        {"receipt": receipt, "second": second_code, "facts": facts},
    )
    return response


def receipt_page(request: HttpRequest, shown: dict) -> HttpResponse:
    facts = shown.get("facts") or {}
    try:
        matched = matched_help(**facts) if facts else ""
    except UNAVAILABLE:
        matched = ""  # the guidance can wait; the receipt cannot
    context = {
        "receipt": receipts.display(shown["receipt"]),
        "second_code": receipts.display(shown["second"]) if shown.get("second") else "",
        "urgent": bool(facts.get("in_danger")),
        "matched": matched,
    }
    return render(request, "intake/receipt.html", context)


@require_POST
@never_cache
def second_code_after_writing(request: HttpRequest) -> HttpResponse:
    """"Make a second code" on the receipt page: the receipt, still on the page, says
    which case. Looked up and throttled like any receipt."""
    throttle.wait(request)
    typed = request.POST.get("receipt", "")
    case = find_case(typed)
    if case is None:
        throttle.record_failure(request)
        return redirect("intake:write")
    code = receipts.new_receipt()
    case.set_second_code(receipts.receipt_hash(code))
    return receipt_redirect(case, receipts.normalize(typed), code)


def matched_help(
    *, need: str, languages: list[str], country: str, for_whom: str, in_danger: bool
) -> str:
    """The guidance and organisations for a new concern, rendered. The same for every
    concern with the same answers, so it is rendered once for them and kept
    (intake/library.py). A helper with nobody in danger reads how to help first."""
    languages = tuple(dict.fromkeys([get_language(), *languages]))
    audience = Audience.PERSON if for_whom == Case.ForWhom.SELF else Audience.FRIEND
    today = timezone.localdate()

    def render_matches() -> str:
        matches = match(
            need=need,
            languages=languages,
            country=country,
            audience=audience,
            today=today,
            in_danger=in_danger,
        )
        return render_to_string(
            "intake/partials/matches.html",
            {"matches": matches, "for_friend": audience == Audience.FRIEND},
        )

    key = ("matches", get_language(), need, languages, country, audience, in_danger, today)
    return library.remember(key, render_matches)


@never_cache
def follow_up(request: HttpRequest) -> HttpResponse:
    if inbox_case(request) is not None or decoy_case_id(request) is not None:
        return redirect("intake:inbox")
    form = ReceiptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        throttle.wait(request)
        # The receipt, the second code or neither: the same work, the same answer but
        # for which inbox opens (Case.objects.opened_with).
        case, duress = Case.objects.opened_with(receipts.hashes_for(form.cleaned_data["receipt"]))
        if case is None:
            throttle.record_failure(request)
            # The same words whether the code is malformed, wrong or deleted.
            form.add_error(
                "receipt",
                _("We could not open a case with this code. Please check it and try again."),
            )
        else:
            open_inbox(request, case, decoy=duress)
            translation.activate(case.language)
            # "#main": the form posted to "#error-summary", which a redirect would keep.
            response = redirect(reverse("intake:inbox") + "#main")
            # As Django's set_language view sets it, from the same settings.
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                case.language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
            return response
    status = 400 if form.errors else 200
    return render(request, "intake/follow_up.html", {"form": form}, status=status)


def find_case(typed: str) -> Case | None:
    receipt = receipts.normalize(typed)
    if receipt is None:
        return None
    return (
        Case.objects.with_content()
        .filter(receipt_hash__in=receipts.candidate_hashes(receipt))
        .first()
    )


@never_cache
def inbox(request: HttpRequest) -> HttpResponse:
    if decoy_case_id(request) is not None:
        return decoy_inbox(request)
    case = inbox_case(request)
    if case is None:
        return redirect("intake:follow_up")
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        case.add_submitter_message(form.cleaned_data["body"])
        return redirect(reverse("intake:inbox") + "#latest")
    if request.method != "POST":
        case.note_submitter_visit(language=get_language())
    shown = receipts.take_shown_once(request) or {}
    response = render(
        request,
        "intake/inbox.html",
        {
            "case": case,
            "messages_list": list(case.messages.all()),
            "form": form,
            "second_code": receipts.display(shown["second"]) if shown.get("second") else "",
        },
        status=400 if form.errors else 200,
    )
    receipts.forget_shown_once(request, response)
    return response


@require_POST
@never_cache
def second_code(request: HttpRequest) -> HttpResponse:
    """A second code made (or made anew) from the real inbox, shown once on it."""
    case = inbox_case(request)
    if case is None:
        return redirect("intake:inbox")  # a decoy, or no inbox: nothing to make
    code = receipts.new_receipt()
    case.set_second_code(receipts.receipt_hash(code))
    response = redirect("intake:inbox")
    receipts.show_once(response, reverse("intake:inbox"), {"second": code})
    return response


def decoy_inbox(request: HttpRequest) -> HttpResponse:
    """What the second code opens: intake/decoy.py. Nothing of the case is read."""
    language = get_language()
    form = ReplyForm(request.POST or None)
    sent = request.session.get(decoy.SENT_KEY, [])
    if request.method == "POST" and form.is_valid():
        request.session[decoy.SENT_KEY] = [*sent, form.cleaned_data["body"]][-decoy.SENT_KEPT :]
        return redirect(reverse("intake:inbox") + "#latest")
    now = timezone.now()
    conversation = decoy.conversation(language, now)
    conversation += [{"mine": True, "at": now, "text": text} for text in sent]
    context = {
        "words": decoy.texts(language),
        "conversation": conversation,
        "form": ReplyForm() if request.method != "POST" else form,
        "sent": bool(sent),
    }
    return render(request, "intake/decoy/inbox.html", context, status=400 if form.errors else 200)


@never_cache
def delete(request: HttpRequest) -> HttpResponse:
    decoy_id = decoy_case_id(request)
    if decoy_id is not None:
        return decoy_delete(request, decoy_id)
    case = inbox_case(request)
    if case is None:
        return redirect("intake:follow_up")
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        case.destroy_content(by_submitter=True)
        close_inbox(request)
        return render(request, "intake/deleted.html")
    return render(request, "intake/delete.html", {"case": case})


def decoy_delete(request: HttpRequest, case_id: int) -> HttpResponse:
    """"Deleting" the decoy: the second code stops working, as a deleted case's receipt
    does; the real case and its mark for the desk stay."""
    words = decoy.texts(get_language())
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        Case(pk=case_id).retire_second_code()
        close_inbox(request)
        return render(request, "intake/decoy/done.html", {"said": words["deleted"]})
    return render(request, "intake/decoy/delete.html", {"words": words})


@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    decoy_session = decoy_case_id(request) is not None
    close_inbox(request)
    if decoy_session:  # never back into the rest of the site
        said = decoy.texts(get_language())["signed_out"]
        return render(request, "intake/decoy/done.html", {"said": said})
    return redirect("intake:start")


def your_data(request: HttpRequest) -> HttpResponse:
    """What deleting means, the second code, and their limits: one plain page, written
    for each language (templates/intake/your_data/)."""
    language = get_language() if get_language() in dict(settings.LANGUAGES) else "en"
    return render(
        request,
        "intake/your_data.html",
        {
            "body": f"intake/your_data/{language}.html",
            "backup_days": settings.KEY_STORE_BACKUP_DAYS,
            "retention_days": settings.CASE_RETENTION_DAYS,
        },
    )


@never_cache
def partner(request: HttpRequest, token: str) -> HttpResponse:
    """A partner organisation's page for one referral, opened from the link it was
    mailed: the text the volunteer wrote, and the answers the referral allows now. An
    unknown, expired or revoked link, or one whose case is gone, gets the same page."""
    if not throttle.partner_page_allowed(request):
        return render(request, "intake/partner_busy.html", status=429)
    link = partners.find(token)
    if link is None:
        return render(request, "intake/partner_unusable.html", status=404)
    referral = link.referral
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        # The partner's language, until they choose another with the switcher.
        translation.activate(referral.partner_language())
    offered = [*partners.offered_answers(referral), partners.MESSAGE]
    forms = {answer: PartnerAnswerForm(answer) for answer in offered}
    answer = request.POST.get("answer", "")
    if request.method == "POST" and answer in forms:
        form = forms[answer] = PartnerAnswerForm(answer, request.POST)
        if form.is_valid():
            try:
                partners.respond(link=link, answer=answer, **form.cleaned_data)
            except referrals.ReferralError as error:
                form.add_error(None, str(error))
            except CaseRefused:  # the content was destroyed a moment ago
                return render(request, "intake/partner_unusable.html", status=404)
            else:
                messages.success(request, _("Thank you. The volunteer has been told."))
                return redirect(request.path)
    elif request.method == "POST":
        return render(request, "400.html", status=400)
    else:
        partners.used(link, opened=True)
    context = {
        "referral": referral,
        "forms": forms,
        # What and when, never the words (the page's address may be forwarded).
        "told": referral.events.filter(by_partner=True).only("at", "status", "kind"),
        "days": settings.PARTNER_LINK_IDLE_DAYS,
    }
    failed = any(form.errors for form in forms.values())
    return render(request, "intake/partner.html", context, status=400 if failed else 200)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """An expired form: say so kindly, and give the concern form back as it was typed."""
    if request.path == reverse("intake:write") and request.method == "POST":
        form = ConcernForm(request.POST)
        form.is_valid()  # show any other problem at the same time
        return concern_page(request, form, status=403, expired=True)
    return render(request, "csrf_failure.html", status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's own 400 handler renders without the request, so the page would lose its
    language direction, site name and quick exit. This one keeps them."""
    return render(request, "400.html", status=400)
