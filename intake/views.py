from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from helpdesk import cases
from helpdesk.models import Case
from intake import library, receipts, throttle
from intake.forms import ConcernForm, ReceiptForm, ReplyForm
from intake.inbox import close_inbox, inbox_case, open_inbox
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
        # From the start page ("for") or from a guide's "Ask a volunteer" ("need").
        for_whom = request.GET.get("for")
        initial = {"for_whom": for_whom} if for_whom in Case.ForWhom.values else {}
        form = ConcernForm(initial=initial)
        chosen = form.choices.need_pk_by_slug.get(request.GET.get("need", ""))
        if chosen is not None:
            form.initial["need"] = chosen
        return concern_page(request, form)
    form = ConcernForm(request.POST)
    if not form.is_valid():
        return concern_page(request, form, status=400)
    data = form.cleaned_data
    # Everything that needs the database comes before the case is saved: once it is
    # saved, nothing may stand between the person and their receipt (a database that
    # went away then would leave a case whose receipt nobody ever saw).
    matched = matched_help(
        need=data["need"].slug,
        languages=data["languages"],
        country=data["country"],
        for_whom=data["for_whom"],
        in_danger=form.urgent,
    )
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
    # The receipt appears in this response only: never in a URL, a session or a log.
    return render(
        request,
        "intake/receipt.html",
        {"receipt": receipts.display(receipt), "case": case, "matched": matched},
    )


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
    if inbox_case(request) is not None:
        return redirect("intake:inbox")
    form = ReceiptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        throttle.wait(request)
        case = find_case(form.cleaned_data["receipt"])
        if case is None:
            throttle.record_failure(request)
            # The same words whether the code is malformed, wrong or deleted.
            form.add_error(
                "receipt",
                _("We could not open a case with this code. Please check it and try again."),
            )
        else:
            open_inbox(request, case)
            translation.activate(case.language)
            response = redirect("intake:inbox")
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
    case = inbox_case(request)
    if case is None:
        return redirect("intake:follow_up")
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        case.add_submitter_message(form.cleaned_data["body"])
        return redirect(reverse("intake:inbox") + "#latest")
    if request.method != "POST":
        case.note_submitter_visit(language=get_language())
    return render(
        request,
        "intake/inbox.html",
        {"case": case, "messages_list": list(case.messages.all()), "form": form},
        status=400 if form.errors else 200,
    )


@never_cache
def delete(request: HttpRequest) -> HttpResponse:
    case = inbox_case(request)
    if case is None:
        return redirect("intake:follow_up")
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        case.destroy_content(by_submitter=True)
        close_inbox(request)
        return render(request, "intake/deleted.html")
    return render(request, "intake/delete.html", {"case": case})


@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    close_inbox(request)
    return redirect("intake:start")


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
