from __future__ import annotations

import csv

from allauth.account.decorators import reauthentication_required
from allauth.account.utils import perform_login
from allauth.mfa.totp.forms import ActivateTOTPForm
from allauth.mfa.totp.internal.auth import clear_totp_secret
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_countries import countries

from helpdesk import access, invitations, mfa, partners, referrals
from helpdesk import team as team_actions
from helpdesk.forms import (
    AcceptInvitationForm,
    AccessLogFilterForm,
    CaseFilterForm,
    ChoosePasswordForm,
    EmailLanguageForm,
    InviteForm,
    NoteForm,
    PauseForm,
    ReassignForm,
    ReferralForm,
    ReferralUpdateForm,
    ReplyForm,
    ResetSecondFactorForm,
    StatusForm,
    VolunteerForm,
)
from helpdesk.models import AccessLogEntry, Case, CaseRefused, VolunteerProfile
from helpdesk.roles import coordinator_required, staff_required
from helpdesk.spreadsheets import csv_text
from resources.matching import AUDIENCES, GuidanceMatch, VolunteerMatches, match_for_volunteer
from resources.models import Audience, Language, ReferralTemplate


@coordinator_required
def invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitations.invite_staff(invited_by=request.user, **form.cleaned_data)
        except OSError:
            # SMTP failures are OSErrors; the transaction rolled back, nothing is saved.
            form.add_error(
                None,
                _(
                    "The email could not be sent, so no invitation was made. "
                    "Please try again in a few minutes."
                ),
            )
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": invitation.email}
            )
            return redirect("invite_staff")
    return render(
        request,
        "helpdesk/invite.html",
        {"form": form, "hours": settings.INVITATION_MAX_AGE_HOURS},
    )


@never_cache
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    return single_use_link_page(
        request,
        find=lambda: invitations.find_invitation(token),
        form_class=AcceptInvitationForm,
        use=lambda data: invitations.accept_invitation(
            token=token, password=data["password1"], first_name=data["first_name"]
        ),
        template="helpdesk/accept_invitation.html",
    )


@never_cache
def factor_reset(request: HttpRequest, token: str) -> HttpResponse:
    return single_use_link_page(
        request,
        find=lambda: invitations.find_factor_reset(token),
        form_class=ChoosePasswordForm,
        use=lambda data: invitations.use_factor_reset(token=token, password=data["password1"]),
        template="helpdesk/factor_reset.html",
    )


def single_use_link_page(request: HttpRequest, *, find, form_class, use, template: str):
    """The shape of both mailed links: find the link (or say it cannot be used), ask for
    a password, use the link, and sign the person in to enrol their second factor."""
    if request.user.is_authenticated:
        raise PermissionDenied
    try:
        link = find()
        form = form_class(request.POST or None, email=link.email)
        if request.method == "POST" and form.is_valid():
            return sign_in_to_enrol(request, use(form.cleaned_data))
    except invitations.LinkUnusable:
        return render(request, "helpdesk/link_unusable.html", status=404)
    return render(request, template, {"form": form, "link": link})


def sign_in_to_enrol(request: HttpRequest, user) -> HttpResponse:
    """Sign in the person who just proved their mailbox with a link, allowed to enrol."""
    response = perform_login(request, user, redirect_url=reverse("mfa_activate_totp"))
    mfa.allow_enrolment(request)
    return response


@staff_required
@reauthentication_required(app="allauth.mfa")
def replace_totp(request: HttpRequest) -> HttpResponse:
    """Move to a new phone: confirmed with the current factor (the decorator), then the
    new app's code is checked against the new secret before anything changes."""
    form = ActivateTOTPForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        mfa.replace_totp(user=request.user, secret=form.secret)
        clear_totp_secret(request)
        messages.success(request, _("Your new phone is set up. The old one no longer works."))
        return redirect("mfa_index")
    context = {"form": form, "totp_svg_data_uri": mfa.qr_code(request.user, form.secret)}
    return render(request, "mfa/totp/replace_form.html", context)


PAGE_SIZE = 25
LISTING_ORDER = ("-urgent", "created_at")
# A list counts its cases no further than this past the start of the page shown: paging
# through a desk of a million cases then costs what it costs with a thousand (the
# partial indexes on Case deliver the rows in LISTING_ORDER). Past it, the page says
# "more than".
COUNT_AHEAD = 500
# The pool hint on a volunteer's own list counts no further than this.
POOL_HINT_LIMIT = 99


class BoundedPaginator(Paginator):
    """A paginator that counts at most `ahead` items past the start of the page asked
    for. `exact` says whether `count` is the whole list or only a lower bound; when it
    is not, the list goes on past `num_pages`.

    With `rows`, a page is read in two steps inside one query: the ids of the page's
    items from `object_list` (which must then be a plain, ordered queryset), then
    `rows(ids)`, what the page shows of them. PostgreSQL otherwise misjudged how many
    cases a list holds (the pool: 28 expected, 3,200 found at 100,000 cases) and joined
    and sorted them all before taking 25, ~8 ms instead of ~1."""

    def __init__(self, object_list, per_page: int, *, number, ahead: int, rows=None) -> None:
        super().__init__(object_list, per_page)
        try:
            # No page past a billion: the count's LIMIT must stay within 64 bits.
            start = (min(max(int(number), 1), 10**9) - 1) * per_page
        except (TypeError, ValueError):
            start = 0
        self.limit = start + ahead
        self.rows = rows

    @cached_property
    def _bounded(self) -> tuple[int, bool]:
        return bounded_count(self.object_list, self.limit)

    @property
    def count(self) -> int:
        return self._bounded[0]

    @property
    def exact(self) -> bool:
        return self._bounded[1]

    def items(self, bottom: int, top: int) -> list:
        if self.rows is None:
            return list(self.object_list[bottom:top])
        return self.rows(self.object_list.values("pk")[bottom:top])

    def get_page(self, number):
        """The first page is read before anything is counted: a list shorter than a page
        (a volunteer's own cases, nearly always) then needs no count at all. Any other
        page, and what Django makes of a page number, as Paginator.get_page does."""
        try:
            first = number is None or int(number) == 1
        except (TypeError, ValueError):
            first = True  # Django shows the first page for a number that is none
        if not first:
            return super().get_page(number)
        items = self.items(0, self.per_page)
        if len(items) < self.per_page:
            self._bounded = (len(items), True)
        return self._get_page(items, 1, self)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        return self._get_page(self.items(bottom, top), number, self)


def bounded_count(queryset, limit: int) -> tuple[int, bool]:
    """How many rows, counting no further than `limit`, and whether that is all of them.
    The rows keep their order, so the database reads them from an ordered index and
    stops, rather than counting every match."""
    count = queryset.values("pk")[: limit + 1].count()
    return min(count, limit), count <= limit


def listed_cases(ids) -> list[Case]:
    """What a case list shows of the cases whose ids `ids` (a queryset) gives."""
    return list(Case.objects.filter(pk__in=ids).for_listing().order_by(*LISTING_ORDER))


def case_list_context(request: HttpRequest, queryset, **extra) -> dict:
    number = request.GET.get("page")
    page = BoundedPaginator(
        queryset.order_by(*LISTING_ORDER),
        PAGE_SIZE,
        number=number,
        ahead=COUNT_AHEAD,
        rows=listed_cases,
    ).get_page(number)
    return {"page": page, "now": timezone.now(), **extra}


@staff_required
@require_GET
def my_cases(request: HttpRequest) -> HttpResponse:
    queryset = Case.objects.held_by(request.user).with_content()
    pool_count, pool_count_exact = bounded_count(
        Case.objects.pool().qualified_for(request.user).order_by(*LISTING_ORDER), POOL_HINT_LIMIT
    )
    context = case_list_context(
        request, queryset, pool_count=pool_count, pool_count_exact=pool_count_exact
    )
    return render(request, "helpdesk/my_cases.html", context)


@staff_required
@require_GET
def pool(request: HttpRequest) -> HttpResponse:
    shortage = None
    if request.user.is_coordinator:
        queryset = Case.objects.pool()
        shortage = access.recent_pool_shortage()
    else:
        queryset = Case.objects.pool().qualified_for(request.user)
    context = case_list_context(request, queryset, shortage=shortage)
    return render(request, "helpdesk/pool.html", context)


@coordinator_required
@require_GET
def all_cases(request: HttpRequest) -> HttpResponse:
    form = CaseFilterForm(request.GET or None)
    queryset = Case.objects.with_content()
    if form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["need"]:
            queryset = queryset.filter(need=data["need"])
        if data["language"]:
            queryset = queryset.speaking_any([data["language"]])
        if data["country"]:
            queryset = queryset.filter(country=data["country"].upper())
        if data["urgent"]:
            queryset = queryset.filter(urgent=data["urgent"] == "yes")
        if data["volunteer"]:
            queryset = queryset.filter(volunteer=data["volunteer"])
        if data["overdue"]:
            queryset = queryset.overdue()
    query = request.GET.copy()
    query.pop("page", None)
    context = case_list_context(request, queryset, form=form, query=query.urlencode())
    return render(request, "helpdesk/all_cases.html", context)


def shareable(case: Case, matches: VolunteerMatches) -> list[GuidanceMatch]:
    """The guidance that may be shared with the person, taken from the volunteer's
    matches (which hold every audience) instead of matching the library again: the
    pieces for the person's audience, in the order match() gives that audience. match()
    sorts by emergency, the audience's place in what that audience reads, country fit,
    position and slug; only the audience's place differs, so a stable sort on the first
    two keys is enough."""
    audience = Audience.PERSON if case.for_whom == Case.ForWhom.SELF else Audience.FRIEND
    shown = AUDIENCES[audience]
    pieces = [item for item in matches.guidance if item.guidance.audience in shown]
    return sorted(
        pieces, key=lambda item: (not item.guidance.emergency, shown.index(item.guidance.audience))
    )


# What the workspace offers, each asked of Case.refusal (the same rule the server keeps).
WORKSPACE_ACTIONS = (
    "claim", "reply", "note", "share", "status", "referral", "reopen", "assign", "revoke"
)  # fmt: skip


def workspace_context(request: HttpRequest, case: Case, **forms) -> dict:
    # The library kept in memory (resources/cache.py): no query once warm.
    matches = match_for_volunteer(
        need=case.need.slug, languages=case.languages, country=case.country
    )
    can = {action: case.allows(action, request.user) for action in WORKSPACE_ACTIONS}
    return {
        "case": case,
        "messages_list": list(case.messages.select_related("staff_user")),
        "notes": list(case.notes.select_related("author")),
        "matches": matches,
        "shareable": shareable(case, matches),
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "note_form": forms.get("note_form") or NoteForm(),
        "status_form": forms.get("status_form")
        or StatusForm(initial={"status": case.status, "reason": case.close_reason}),
        "reassign_form": forms.get("reassign_form")
        or (
            ReassignForm(case=case, initial={"volunteer": case.volunteer_id})
            if can["assign"]
            else None
        ),
        "referrals": list(case.referrals.with_history()),
        "country_name": countries.name(case.country) or case.country,
        "referral_update_form": ReferralUpdateForm(),
        "is_mine": case.volunteer_id == request.user.pk,
        "in_pool": case.in_pool,
        "can": can,
    }


@staff_required
@require_GET
@never_cache
def case_detail(request: HttpRequest, reference: str) -> HttpResponse:
    case = access.case_for(request, reference, action=AccessLogEntry.Action.VIEW, pool=True)
    if case.volunteer_id == request.user.pk and case.unopened:
        case.mark_opened(by=request.user)
    return render(request, "helpdesk/case.html", workspace_context(request, case))


def refused(request: HttpRequest, case: Case, refusal: CaseRefused) -> HttpResponse:
    """The workspace again, saying why, with the refusal's status (409 or 403)."""
    messages.error(request, str(refusal))
    case.refresh_from_db()
    context = workspace_context(request, case)
    return render(request, "helpdesk/case.html", context, status=refusal.status)


def _workspace_post(request, reference: str, action: str, form_class, form_name: str, apply):
    """The shape of every workspace form: refuse what the case does not allow now;
    validate, or show the workspace again with the errors next to the field (and what
    was typed); else apply and go back to the case. A form that checks the data against
    the case takes it as `case`."""
    case = access.case_for(request, reference)
    try:
        case.require(action, request.user)
        form = form_class(request.POST, **({"case": case} if form_class.needs_case else {}))
        if not form.is_valid():
            context = workspace_context(request, case, **{form_name: form})
            return render(request, "helpdesk/case.html", context, status=400)
        apply(case, form.cleaned_data)
    except CaseRefused as refusal:
        return refused(request, case, refusal)
    return redirect("case", reference)


@staff_required
@require_POST
def case_reply(request: HttpRequest, reference: str) -> HttpResponse:
    def apply(case: Case, data: dict) -> None:
        case.reply(data["body"], by=request.user)
        messages.success(request, _("Your answer is in the person's inbox."))

    return _workspace_post(request, reference, "reply", ReplyForm, "reply_form", apply)


@staff_required
@require_POST
def case_note(request: HttpRequest, reference: str) -> HttpResponse:
    def apply(case: Case, data: dict) -> None:
        case.add_note(data["body"], by=request.user)
        messages.success(request, _("Your internal note is saved. The person cannot see it."))

    return _workspace_post(request, reference, "note", NoteForm, "note_form", apply)


@staff_required
@require_POST
def case_status(request: HttpRequest, reference: str) -> HttpResponse:
    def apply(case: Case, data: dict) -> None:
        case.set_status(data["status"], by=request.user, reason=data["reason"])
        messages.success(
            request, _("Status changed to “%(status)s”.") % {"status": case.get_status_display()}
        )

    return _workspace_post(request, reference, "status", StatusForm, "status_form", apply)


@staff_required
@require_POST
def case_reopen(request: HttpRequest, reference: str) -> HttpResponse:
    case = access.case_for(request, reference)
    try:
        case.reopen(by=request.user)
    except CaseRefused as refusal:
        return refused(request, case, refusal)
    messages.success(request, _("The case is open again."))
    return redirect("case", reference)


@staff_required
@require_POST
def case_share(request: HttpRequest, reference: str) -> HttpResponse:
    case = access.case_for(request, reference)
    slug = request.POST.get("guidance", "")
    try:
        case.require("share", request.user)
        context = workspace_context(request, case)
        item = next((item for item in context["shareable"] if item.guidance.slug == slug), None)
        if item is None:
            raise Http404
        case.share_guidance(
            by=request.user,
            title=item.translation.title,
            text=item.translation.body,
            language=item.language,
        )
    except CaseRefused as refusal:
        return refused(request, case, refusal)
    messages.success(
        request, _("“%(title)s” is in the person's inbox.") % {"title": item.translation.title}
    )
    return redirect("case", reference)


@staff_required
@require_POST
def case_claim(request: HttpRequest, reference: str) -> HttpResponse:
    case = access.case_for(request, reference, pool=True)
    try:
        case.claim(by=request.user)
    except CaseRefused as refusal:
        return refused(request, case, refusal)
    return redirect("case", reference)


@coordinator_required
@require_POST
def case_reassign(request: HttpRequest, reference: str) -> HttpResponse:
    def apply(case: Case, data: dict) -> None:
        if data["volunteer"] is None:
            case.release(by=request.user)
            messages.success(request, _("The case is back in the pool."))
        else:
            case.assign_to(data["volunteer"], by=request.user, reason=data["reason"])
            messages.success(request, _("The case has been handed over."))

    return _workspace_post(request, reference, "assign", ReassignForm, "reassign_form", apply)


@coordinator_required
@require_GET
def case_log(request: HttpRequest, reference: str) -> HttpResponse:
    case = access.case_for(request, reference, action=AccessLogEntry.Action.VIEW)
    entries = case.access_log.select_related("user")[:500]
    return render(request, "helpdesk/case_log.html", {"case": case, "entries": entries})


LOG_PAGE_SIZE = 50


@coordinator_required
@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    """Who reached which case, desk-wide: filtered, paged, or as CSV (no content in it,
    as in the log itself)."""
    form = AccessLogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = AccessLogEntry.objects.matching(**filters)
    if request.GET.get("format") == "csv":
        return access_log_csv(entries)
    number = request.GET.get("page")
    paginator = BoundedPaginator(entries, LOG_PAGE_SIZE, number=number, ahead=COUNT_AHEAD)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    context = {"form": form, "page": paginator.get_page(number), "query": query.urlencode()}
    return render(request, "helpdesk/access_log.html", context, status=400 if form.errors else 200)


def access_log_csv(entries) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="haven-access-log.csv"'
    writer = csv.writer(response)
    writer.writerow(["when", "who", "case", "what"])
    for entry in entries.iterator():
        writer.writerow(
            [
                timezone.localtime(entry.at).isoformat(timespec="seconds"),
                csv_text(entry.user.email if entry.user else ""),
                entry.case.reference,
                entry.action,
            ]
        )
    return response


@coordinator_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    profiles = (
        VolunteerProfile.objects.select_related("user")
        .prefetch_related("languages", "needs")
        .with_shown_load()
        .order_by("-user__is_active", "user__first_name", "user__email")
    )
    return render(
        request, "helpdesk/team.html", {"profiles": profiles, "today": timezone.localdate()}
    )


@coordinator_required
def team_member(request: HttpRequest, user_id: int) -> HttpResponse:
    profile = get_object_or_404(VolunteerProfile.objects.select_related("user"), user_id=user_id)
    form = VolunteerForm(request.POST or None, initial=volunteer_initial(profile))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        returned = team_actions.update_volunteer(
            profile=profile,
            languages=data["languages"],
            needs=data["needs"],
            capacity=data["capacity"],
            paused_until=data["paused_until"],
            active=data["active"],
            role=data["role"],
            return_cases=data["return_cases"] == "return",
        )
        messages.success(
            request,
            _("Saved. %(count)s case(s) went back to the pool.") % {"count": returned},
        )
        return redirect("team")
    return team_member_page(request, profile, form=form)


def volunteer_initial(profile: VolunteerProfile) -> dict:
    return {
        "role": profile.user.role,
        "languages": profile.languages.all(),
        "needs": profile.needs.all(),
        "capacity": profile.capacity,
        "paused_until": profile.paused_until,
        "active": profile.user.is_active,
    }


def team_member_page(
    request: HttpRequest, profile: VolunteerProfile, *, form=None, reset_form=None, status=200
) -> HttpResponse:
    context = {
        "form": form or VolunteerForm(initial=volunteer_initial(profile)),
        "profile": profile,
        "has_factor": mfa.has_factor(profile.user),
        "reset_form": reset_form or ResetSecondFactorForm(),
    }
    return render(request, "helpdesk/team_member.html", context, status=status)


@coordinator_required
@require_POST
def reset_second_factor(request: HttpRequest, user_id: int) -> HttpResponse:
    profile = get_object_or_404(VolunteerProfile.objects.select_related("user"), user_id=user_id)
    if profile.user == request.user:
        raise PermissionDenied  # their own: "Move to a new phone", with their current code
    form = ResetSecondFactorForm(request.POST)
    if form.is_valid():
        try:
            invitations.reset_second_factor(user=profile.user, by=request.user)
        except OSError:
            # SMTP failures are OSErrors; the transaction rolled back, nothing changed.
            form.add_error(
                None,
                _(
                    "The email could not be sent, so nothing was reset. "
                    "Please try again in a few minutes."
                ),
            )
        else:
            messages.success(
                request,
                _(
                    "%(name)s is signed out everywhere and has been sent a link, valid for "
                    "%(hours)s hours, to set up their sign-in again."
                )
                % {"name": profile.user, "hours": settings.INVITATION_MAX_AGE_HOURS},
            )
            return redirect("team_member", user_id)
    return team_member_page(request, profile, reset_form=form, status=400)


@staff_required
def email_address(request: HttpRequest) -> HttpResponse:
    """Where password resets and set-up links are sent is changed by a coordinator (in
    the admin), never from a session: whoever held one could take the account."""
    return render(request, "account/email.html")


@staff_required
def my_availability(request: HttpRequest) -> HttpResponse:
    profile = request.user.profile
    form = PauseForm(request.POST or None, initial={"until": profile.paused_until})
    if request.method == "POST" and form.is_valid():
        returned = team_actions.pause(
            user=request.user,
            until=form.cleaned_data["until"],
            return_cases=form.cleaned_data["return_cases"] == "return",
        )
        if form.cleaned_data["until"]:
            messages.success(
                request,
                _("You are paused. %(count)s case(s) went back to the pool.") % {"count": returned},
            )
        else:
            messages.success(request, _("Welcome back: you receive new cases again."))
        return redirect("desk")
    language_form = EmailLanguageForm(initial={"language": request.user.language})
    context = {"form": form, "profile": profile, "language_form": language_form}
    return render(request, "helpdesk/availability.html", context)


@staff_required
@require_POST
def my_email_language(request: HttpRequest) -> HttpResponse:
    form = EmailLanguageForm(request.POST)
    if form.is_valid():
        request.user.language = form.cleaned_data["language"]
        request.user.save(update_fields=["language"])
        messages.success(request, _("The desk's emails to you will be in this language."))
    return redirect("my_availability")


def template_values(case: Case, template, user) -> dict[str, str]:
    """Plain values for a referral template, in the template's language."""

    language = template.language_id
    with translation.override(language):
        country = str(dict(countries).get(case.country, case.country))
    return {
        "need": case.need.localized(language).name,
        "country": country,
        "languages": ", ".join(
            Language.objects.filter(code__in=case.languages)
            .order_by("code")
            .values_list("name", flat=True)
        ),
        "volunteer_first_name": user.first_name or user.email.split("@")[0],
        "case_reference": case.reference,
        "organisation": template.organisation.name,
    }


def chosen_template(value: str) -> ReferralTemplate | None:
    return (
        ReferralTemplate.objects.select_related("organisation")
        .filter(pk=int(value) if value.isdigit() else None)
        .first()
    )


@staff_required
def referral_new(request: HttpRequest, reference: str) -> HttpResponse:
    """A referral from a template: first whether the person agreed, then the message,
    whose text says they agreed only if they did ({consent}), then the draft."""
    # Showing the form is a view of the case; sending it is logged as the referral.
    viewed = AccessLogEntry.Action.VIEW if request.method != "POST" else ""
    case = access.case_for(request, reference, action=viewed)
    refusal = case.refusal(AccessLogEntry.Action.REFERRAL, request.user)
    if refusal is not None:
        return refused(request, case, refusal)
    asked = request.POST or request.GET
    template = chosen_template(asked.get("template", ""))
    values = template_values(case, template, request.user) if template else {}
    claim = template.consent_claim(values) if template else ""
    if request.method != "POST":
        consented = request.GET.get("consent") == "yes"
        initial = {}
        if template is not None:
            rendered = template.render(values, consented=consented)
            initial = {
                "organisation": template.organisation_id,
                "subject": rendered.subject,
                "body": rendered.body,
                "consent": consented,
            }
        form = ReferralForm(initial=initial)
    else:
        form = ReferralForm(request.POST, consent_claim=claim)
        if form.is_valid():
            data = form.cleaned_data
            referral = referrals.draft(
                case=case,
                organisation=data["organisation"],
                template=template,
                language=template.language_id if template else "",
                subject=data["subject"],
                body=data["body"],
                follow_up_on=data["follow_up_on"],
                by=request.user,
            )
            if data["consent"]:
                referrals.record_consent(referral=referral, by=request.user)
            messages.success(request, _("The referral is recorded as a draft."))
            return redirect(reverse("case", args=[reference]) + "#referrals")
    context = {
        "case": case,
        "form": form,
        "template": template,
        # A template's message is written once the volunteer said whether the person agreed.
        "ask_consent": template is not None and request.method != "POST"
        and request.GET.get("consent") not in ("yes", "no"),
        "country_name": countries.name(case.country) or case.country,
    }
    if template is not None:
        context["covers"] = template.organisation.covers(case.country)
        context["works_in"] = template.organisation.works_in_any(case.languages)
    return render(
        request, "helpdesk/referral_new.html", context, status=400 if form.errors else 200
    )


@staff_required
@require_POST
def referral_update(request: HttpRequest, reference: str, referral_id: int) -> HttpResponse:
    case = access.case_for(request, reference)
    referral = get_object_or_404(case.referrals.select_related("organisation"), pk=referral_id)
    action = request.POST.get("action", "")
    # Taking a partner's link back is allowed where other work is not (a closed case).
    needed = AccessLogEntry.Action.REVOKE if action == "revoke" else AccessLogEntry.Action.REFERRAL
    try:
        case.require(needed, request.user)
        done = update_referral(referral, action, request)
    except CaseRefused as refusal:
        return refused(request, case, refusal)
    except referrals.ReferralError as error:
        messages.error(request, str(error))
    except OSError:  # SMTP failures: the transaction rolled back, nothing changed
        messages.error(
            request, _("The email could not be sent, so nothing changed. Please try again soon.")
        )
    else:
        messages.success(request, done)
    return redirect(reverse("case", args=[reference]) + "#referrals")


def update_referral(referral, action: str, request: HttpRequest) -> str:
    """Apply one of the referral panel's buttons; says what was done."""
    by = request.user
    name = referral.organisation.name
    if action == "consent":
        referrals.record_consent(referral=referral, by=by)
        return _("The person's consent is recorded: the referral can be sent.")
    if action == "tell":
        referrals.tell_the_person(referral=referral, by=by)
        return _("The person can read the news in their inbox.")
    if action == "send":
        partners.send(referral=referral, by=by)
        return _("Sent through Haven: %(name)s has been emailed a link to the referral.") % {
            "name": name
        }
    if action == "new_link":
        partners.send_new_link(referral=referral, by=by)
        return _("%(name)s has been emailed a new link.") % {"name": name}
    if action == "revoke":
        partners.revoke(referral=referral, by=by)
        return _("The partner's link no longer works.")
    form = ReferralUpdateForm(request.POST)
    if not form.is_valid():
        raise referrals.ReferralError(_("Choose a status."))
    referral = referrals.advance(referral=referral, by=by, **form.cleaned_data)
    status = referral.get_status_display()
    if referral.status in referrals.OUTCOMES:
        return _("Outcome recorded: “%(status)s”.") % {"status": status}
    return _("The referral is now “%(status)s”.") % {"status": status}
