from collections import defaultdict

from allauth.account.forms import LoginForm
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from allauth.mfa.models import Authenticator
from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk import mfa, routing
from helpdesk.models import (
    GAP_LABELS,
    AccessLogEntry,
    Case,
    CloseReason,
    Referral,
    User,
    VolunteerProfile,
)
from helpdesk.roles import Role
from helpdesk.widgets import PrerenderedSelect
from resources.cache import remember
from resources.models import Language, Need, Organisation


class StaffChoiceIterator(forms.models.ModelChoiceIterator):
    """A staff member's options from their id and names only: listing ~200 staff in a
    <select> made ~200 whole User instances on every view of the case list."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        fields = ("pk", "first_name", "last_name", "email")
        for pk, first_name, last_name, email in self.queryset.values_list(*fields):
            # As User.__str__: the full name, else the email address.
            yield (pk, f"{first_name} {last_name}".strip() or email)


class StaffChoiceField(forms.ModelChoiceField):
    iterator = StaffChoiceIterator


class TOTPCodeOnceMixin:
    """allauth's code forms, with a TOTP code accepted once in all the time it is valid
    (helpdesk/mfa.py). Claiming the code is part of checking it, as in allauth."""

    def clean_code(self) -> str:
        code = super().clean_code()
        totp = self.authenticator.type == Authenticator.Type.TOTP
        if totp and not mfa.claim_totp_code(self.authenticator, code):
            raise get_mfa_adapter().validation_error("code_already_used")
        return code


class MFAAuthenticateForm(TOTPCodeOnceMixin, AuthenticateForm):
    pass


class MFAReauthenticateForm(TOTPCodeOnceMixin, ReauthenticateForm):
    pass


class InviteForm(forms.Form):
    """Who to invite, and the profile their account starts with: with languages and
    needs, routing can reach them as soon as they have signed in."""

    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(
        label=_("Role"), choices=Role.choices, initial=Role.VOLUNTEER, widget=PrerenderedSelect
    )
    language = forms.ChoiceField(
        label=_("Language of the invitation and of the desk's emails to them"),
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
        required=False,
        widget=PrerenderedSelect,
    )
    languages = forms.ModelMultipleChoiceField(
        label=_("Languages they speak"),
        queryset=Language.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    needs = forms.ModelMultipleChoiceField(
        label=_("Trained for"),
        queryset=Need.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    capacity = forms.IntegerField(
        label=_("Open cases at most"), min_value=0, max_value=50, initial=5, required=False
    )

    def clean_language(self) -> str:
        return self.cleaned_data["language"] or settings.LANGUAGE_CODE

    def clean_capacity(self) -> int:
        capacity = self.cleaned_data["capacity"]
        return 5 if capacity is None else capacity

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("This person already has an account."))
        return email


class ChoosePasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters. A few unrelated words work well."),
    )
    password2 = forms.CharField(
        label=_("The same password again"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict:
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second:
            if first != second:
                self.add_error("password2", _("The two passwords differ."))
            else:
                try:
                    password_validation.validate_password(first, User(email=self.email))
                except forms.ValidationError as error:
                    self.add_error("password1", error)
        return cleaned


class AcceptInvitationForm(ChoosePasswordForm):
    first_name = forms.CharField(
        label=_("First name (shown to other staff)"), max_length=150, required=False
    )
    field_order = ["first_name", "password1", "password2"]


class ResetSecondFactorForm(forms.Form):
    confirm = forms.BooleanField(
        label=_(
            "I have checked with this person, by phone or face to face, that they asked for this."
        ),
        error_messages={"required": _("Please check with the person first, then tick this.")},
    )


class ReplyForm(forms.Form):
    """The answer to the person. It shares the workspace with the note: its own ids, so
    a label never points at the other box."""

    needs_case = False

    body = forms.CharField(
        label=_("Answer to the person (they read it in their inbox)"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "reply_%s")
        super().__init__(*args, **kwargs)


class NoteForm(forms.Form):
    needs_case = False

    body = forms.CharField(
        label=_("Internal note (staff only: the person never sees it)"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "internal"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "note_%s")
        super().__init__(*args, **kwargs)


class StatusForm(forms.Form):
    needs_case = False

    status = forms.ChoiceField(
        label=_("Status"), choices=Case.Status.choices, widget=PrerenderedSelect
    )
    reason = forms.ChoiceField(
        label=_("Reason for closing"),
        choices=[("", "—")] + list(CloseReason.choices),
        required=False,
        widget=PrerenderedSelect,
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("status") == Case.Status.CLOSED and not cleaned.get("reason"):
            self.add_error("reason", _("Please say why the case is closed."))
        return cleaned


class ReassignForm(forms.Form):
    """A coordinator's hand-over. Each person in the list shows their languages, needs
    and load; handing the case to someone routing would not choose (Case.handover_gaps)
    is refused with a warning naming what is missing, until a reason is given."""

    needs_case = True

    volunteer = forms.ModelChoiceField(
        label=_("Give the case to"),
        queryset=User.objects.filter(is_active=True, profile__isnull=False),
        required=False,
        empty_label=_("Nobody: back to the pool"),
        widget=PrerenderedSelect,
    )
    reason = forms.CharField(
        label=_("Why this person, although they do not fit"),
        help_text=_("Needed only when the list marks the person as not fitting the case."),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, case: Case, **kwargs) -> None:
        kwargs.setdefault("auto_id", "handover_%s")  # the status form has a "reason" too
        super().__init__(*args, **kwargs)
        self.case = case
        self.fields["volunteer"].choices = [
            ("", self.fields["volunteer"].empty_label),
            *handover_choices(case),
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        volunteer = cleaned.get("volunteer")
        if volunteer is None or cleaned.get("reason", "").strip():
            return cleaned
        missing = self.case.handover_gaps(volunteer)
        if missing:
            self.add_error(
                "reason",
                _(
                    "%(person)s does not fit this case: %(missing)s. "
                    "Say why you hand it over anyway."
                )
                % {"person": volunteer, "missing": gap_words(missing)},
            )
        return cleaned


def gap_words(missing: list[str]) -> str:
    return ", ".join(str(GAP_LABELS[gap]) for gap in missing)


def handover_choices(case: Case) -> list[tuple[int, str]]:
    """Every active staff member, with their languages, needs and load, and a mark when
    they do not fit the case; in three queries however large the team. Languages and
    needs are read as pairs of ids and codes: prefetching them made ~4,000 model
    instances and related managers for a team of 200 (~100 ms)."""
    today = timezone.localdate()
    profiles = list(
        VolunteerProfile.objects.filter(user__is_active=True)
        .select_related("user")
        .with_shown_load()
        .order_by("user__first_name", "user__email")
    )
    ids = [profile.pk for profile in profiles]
    languages, needs = defaultdict(set), defaultdict(set)
    through = VolunteerProfile.languages.through.objects.filter(volunteerprofile_id__in=ids)
    for profile_id, code in through.values_list("volunteerprofile_id", "language__code"):
        languages[profile_id].add(code)
    through = VolunteerProfile.needs.through.objects.filter(volunteerprofile_id__in=ids)
    for profile_id, slug in through.values_list("volunteerprofile_id", "need__slug"):
        needs[profile_id].add(slug)
    facts = routing.CaseFacts(need=case.need.slug, languages=tuple(case.languages))
    choices = []
    for profile in profiles:
        # As VolunteerProfile.as_candidate() gives it.
        candidate = routing.Candidate(
            id=profile.user_id,
            languages=frozenset(languages[profile.pk]),
            needs=frozenset(needs[profile.pk]),
            capacity=profile.capacity,
            open_cases=profile.open_cases,
            active=profile.user.is_active,
            paused_until=profile.paused_until,
        )
        missing = routing.gaps(facts, candidate, today=today)
        label = "{name} — {languages} · {needs} · {load}/{capacity}".format(
            name=profile.user,
            languages=", ".join(sorted(candidate.languages)) or "—",
            needs=", ".join(sorted(candidate.needs)) or "—",
            load=profile.open_cases,
            capacity=profile.capacity,
        )
        if missing:
            label += " · " + _("does not fit: %(missing)s") % {"missing": gap_words(missing)}
        choices.append((profile.user_id, label))
    return choices


MODEL_INVALID_CHOICE = forms.ModelChoiceField.default_error_messages["invalid_choice"]


def library_choices() -> dict[str, list[tuple[str, str]]]:
    """The needs and languages as (value, label) choices, made once per library version."""
    return remember(
        ("filter-choices",),
        lambda: {
            "needs": [(str(need.pk), str(need)) for need in Need.objects.all()],
            "languages": [(lang.code, str(lang)) for lang in Language.objects.all()],
        },
    )


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any"))] + list(Case.Status.choices),
        required=False,
        widget=PrerenderedSelect,
    )
    # The library's needs and languages kept in memory (resources/cache.py): no query to
    # list them or to check a choice. The values and labels are those a ModelChoiceField
    # gave (a need's id, a language's code).
    need = forms.ChoiceField(
        label=_("Need"),
        choices=lambda: [("", _("Any")), *library_choices()["needs"]],
        required=False,
        widget=PrerenderedSelect,
        error_messages={"invalid_choice": MODEL_INVALID_CHOICE},
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=lambda: [("", _("Any")), *library_choices()["languages"]],
        required=False,
        widget=PrerenderedSelect,
        error_messages={"invalid_choice": MODEL_INVALID_CHOICE},
    )
    country = forms.CharField(label=_("Country code"), max_length=2, required=False)
    urgent = forms.ChoiceField(
        label=_("Urgency"),
        choices=[("", _("Any")), ("yes", _("Urgent")), ("no", _("Not urgent"))],
        required=False,
        widget=PrerenderedSelect,
    )
    volunteer = StaffChoiceField(
        label=_("Volunteer"),
        queryset=User.objects.order_by("first_name", "email"),
        required=False,
        empty_label=_("Anyone"),
        widget=PrerenderedSelect,
    )
    overdue = forms.BooleanField(label=_("Only overdue first answers"), required=False)


class VolunteerForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, widget=PrerenderedSelect)
    languages = forms.ModelMultipleChoiceField(
        label=_("Languages spoken"),
        queryset=Language.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    needs = forms.ModelMultipleChoiceField(
        label=_("Trained for"),
        queryset=Need.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    capacity = forms.IntegerField(label=_("Open cases at most"), min_value=0, max_value=50)
    paused_until = forms.DateField(
        label=_("Paused until (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    active = forms.BooleanField(label=_("Active (can sign in and receive cases)"), required=False)
    return_cases = forms.ChoiceField(
        label=_("If this takes them out of routing, their open cases"),
        choices=[("keep", _("stay with them")), ("return", _("go back to the pool"))],
        initial="keep",
        widget=forms.RadioSelect,
    )


class EmailLanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language of the desk's emails to me"),
        choices=settings.LANGUAGES,
        widget=PrerenderedSelect,
    )


class PauseForm(forms.Form):
    until = forms.DateField(
        label=_("Pause until (inclusive); leave empty to resume"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    return_cases = forms.ChoiceField(
        label=_("My open cases"),
        choices=[("keep", _("stay with me")), ("return", _("go back to the pool"))],
        initial="keep",
        widget=forms.RadioSelect,
    )

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until and until < timezone.localdate():
            raise forms.ValidationError(_("Choose today or a later day."))
        return until


class ReferralForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.all(),
        widget=PrerenderedSelect,
    )
    subject = forms.CharField(label=_("Subject"), max_length=300)
    body = forms.CharField(
        label=_("Message to the organisation (edit before recording)"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 12}),
    )
    follow_up_on = forms.DateField(
        label=_("Follow up on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    consent = forms.BooleanField(
        label=_("The person agreed to this referral (recorded now, with today's date)"),
        required=False,
    )

    def __init__(self, *args, consent_claim: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The template's sentence saying the person agreed, as filled in for this case.
        self.consent_claim = consent_claim

    def clean(self) -> dict:
        cleaned = super().clean()
        claimed = self.consent_claim and self.consent_claim in cleaned.get("body", "")
        if claimed and not cleaned.get("consent"):
            self.add_error(
                "consent",
                _(
                    "The message says the person agreed. Tick this box if they did; "
                    "if not, take that sentence out."
                ),
            )
        return cleaned


class ReferralUpdateForm(forms.Form):
    to = forms.ChoiceField(
        label=_("New status"), choices=Referral.Status.choices, widget=PrerenderedSelect
    )
    reason = forms.ChoiceField(
        label=_("If it did not work out: why"),
        choices=[("", "—")] + list(Referral.FailureReason.choices),
        required=False,
        widget=PrerenderedSelect,
    )
    note = forms.CharField(
        label=_("Outcome note"),
        max_length=5_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    follow_up_on = forms.DateField(
        label=_("Next follow-up"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class ReviewForm(forms.Form):
    """A review of one piece of guidance: which translations were read against the
    source text, what changed, and, for a legal reviewer, whether it is a legal review."""

    languages = forms.MultipleChoiceField(
        label=_("Translations read against the source text"),
        help_text=_("Ticked translations count as made from the current source text."),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label=_("What changed, or what you checked"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    legal = forms.BooleanField(
        label=_("This is a legal review: I checked every legal statement against its sources"),
        required=False,
    )

    def __init__(self, *args, languages: list[tuple[str, str]], legal_allowed: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["languages"].choices = languages
        if not legal_allowed:
            del self.fields["legal"]


class AccessLogFilterForm(forms.Form):
    """The desk-wide access log's filters: who, which case, what, when."""

    person = StaffChoiceField(
        label=_("Staff member"),
        queryset=User.objects.order_by("first_name", "email"),
        required=False,
        empty_label=_("Anyone"),
        widget=PrerenderedSelect,
    )
    case = forms.CharField(label=_("Case reference"), max_length=12, required=False)
    action = forms.ChoiceField(
        label=_("What"),
        choices=[("", _("Anything"))] + list(AccessLogEntry.Action.choices),
        required=False,
        widget=PrerenderedSelect,
    )
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To (included)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_case(self) -> str:
        return self.cleaned_data["case"].strip().upper()

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end comes before the start."))
        return cleaned


class StaffLoginForm(LoginForm):
    """allauth's sign-in form; the page links to the password reset once, below the
    form, so the password field carries no second "Forgot your password?" link."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = ""
