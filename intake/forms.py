"""The anonymous side's forms. They validate and clean; they save nothing."""

from __future__ import annotations

import re
import secrets

from django import forms
from django.conf import settings
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from helpdesk import partners
from helpdesk.models import Case, Referral
from intake import library
from intake.widgets import PrerenderedSelect
from resources.models import Need

SUBMISSION_KEY_LENGTH = Case._meta.get_field("submission_key").max_length
# C0 controls other than tab and newlines, DEL and C1 controls: never meaningful in a
# message, and PostgreSQL refuses NUL outright.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(value: str) -> str:
    return CONTROL_CHARACTERS.sub("", value.replace("\r\n", "\n"))


class TextField(forms.CharField):
    """A CharField that drops control characters before stripping and length checks, so
    that whitespace between control characters is not taken for a message."""

    def to_python(self, value):
        return super().to_python(clean_text(value) if isinstance(value, str) else value)


class ConcernForm(forms.Form):
    for_whom = forms.ChoiceField(
        label=_("Who is this for?"),
        choices=[
            (Case.ForWhom.SELF, _("For myself")),
            (Case.ForWhom.OTHER, _("For someone I know")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose who this is for.")},
    )
    need = forms.ChoiceField(
        label=_("What kind of help?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose the kind of help."),
            # Django's own words (translated by Django): the typed value is not repeated.
            "invalid_choice": forms.ModelChoiceField.default_error_messages["invalid_choice"],
        },
    )
    country = forms.ChoiceField(
        label=_("Which country is the person in now?"),
        help_text=_("So that we can suggest help that works there."),
        widget=PrerenderedSelect,
        error_messages={"required": _("Please choose a country.")},
    )
    language_1 = forms.ChoiceField(
        label=_("Language for our answer"),
        widget=PrerenderedSelect,
        error_messages={"required": _("Please choose a language.")},
    )
    language_2 = forms.ChoiceField(
        label=_("Second language"), widget=PrerenderedSelect, required=False
    )
    language_3 = forms.ChoiceField(
        label=_("Third language"), widget=PrerenderedSelect, required=False
    )
    in_danger = forms.ChoiceField(
        label=_("Is someone in danger right now?"),
        choices=[("no", _("No")), ("yes", _("Yes, right now"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Please answer this question.")},
    )
    description = TextField(
        label=_("What is happening?"),
        help_text=_("Write in your own words. Do not write names or addresses unless you want to."),
        max_length=settings.MESSAGE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 8, "maxlength": settings.MESSAGE_MAX_CHARS}),
        error_messages={"required": _("Please tell us a little about what is happening.")},
    )
    contact_channel = forms.ChoiceField(
        label=_("A safe way to reach you outside this website"),
        choices=Case.Channel.choices,
        initial=Case.Channel.NONE,
        widget=forms.RadioSelect,
        required=False,
    )
    contact_details = TextField(
        label=_("Address, number or name on that channel"),
        max_length=300,
        required=False,
        # Numbers and addresses read left to right, also inside Arabic or Persian text.
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )
    contact_safe_times = TextField(
        label=_("When is it safe to contact you?"), max_length=300, required=False
    )
    contact_code_word = TextField(
        label=_("A code word we will use, so you know it is us"), max_length=100, required=False
    )
    consent = forms.BooleanField(
        label=_("I have read how my message is handled and agree to it."),
        error_messages={"required": _("Please confirm that you agree, so that we can help.")},
    )
    # A hidden field must never fail, as its error could not be shown next to anything:
    # no max_length, control characters (NUL) dropped, anything unusable replaced below.
    submission_key = TextField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, choices: library.ConcernChoices | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Choices follow the visitor's language; they are kept per language in memory
        # (intake/library.py), so neither building nor checking them needs a query.
        self.choices = choices or library.concern_choices(get_language())
        self.fields["need"].choices = self.choices.needs
        self.fields["country"].choices = self.choices.countries
        self.fields["language_1"].choices = self.choices.first_language
        self.fields["language_2"].choices = self.choices.other_language
        self.fields["language_3"].choices = self.choices.other_language
        if self.for_someone_else:
            # The questions speak of the person being helped, not of the helper.
            self.fields["description"].label = _("What is happening to the person you are helping?")
            self.fields["description"].help_text = _(
                "Write in your own words. Do not write their name or address unless they agree."
            )
            self.fields["country"].label = _("Which country is the person you are helping in now?")
            self.fields["in_danger"].label = _(
                "Is the person you are helping, or anyone else, in danger right now?"
            )
        if not self.is_bound:
            self.initial.setdefault("submission_key", secrets.token_urlsafe(24))
            self.initial.setdefault("contact_channel", Case.Channel.NONE)
            if get_language() in self.choices.languages:
                self.initial.setdefault("language_1", get_language())

    def clean_need(self) -> Need:
        return self.choices.need_by_pk[self.cleaned_data["need"]]

    def clean_submission_key(self) -> str:
        # A missing or malformed key (an old form, a hand-made post) still submits: it
        # only loses the protection against sending the same form twice.
        key = self.cleaned_data["submission_key"]
        if not key or len(key) > SUBMISSION_KEY_LENGTH:
            return secrets.token_urlsafe(24)
        return key

    def clean_contact_channel(self) -> str:
        return self.cleaned_data["contact_channel"] or Case.Channel.NONE

    def clean(self) -> dict:
        cleaned = super().clean()
        languages = []
        for name in ("language_1", "language_2", "language_3"):
            code = cleaned.get(name)
            if code and code not in languages:
                languages.append(code)
        cleaned["languages"] = languages
        channel = cleaned.get("contact_channel")
        if channel and channel != Case.Channel.NONE and not cleaned.get("contact_details"):
            self.add_error(
                "contact_details",
                _(
                    "Please write how to reach you on this channel, "
                    "or choose “Only through this website”."
                ),
            )
        return cleaned

    @property
    def for_someone_else(self) -> bool:
        """Written by a helper: their answer, or the start page's choice."""
        chosen = self.data.get("for_whom") if self.is_bound else self.initial.get("for_whom")
        return chosen == Case.ForWhom.OTHER

    @property
    def urgent(self) -> bool:
        return self.cleaned_data.get("in_danger") == "yes"


class ReceiptForm(forms.Form):
    receipt = TextField(
        label=_("Your receipt code"),
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "dir": "ltr",  # a code reads left to right, also in Arabic or Persian
            }
        ),
        error_messages={"required": _("Please type your receipt code.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The example code kept whole and left to right inside right-to-left text.
        self.fields["receipt"].help_text = format_html(
            _("The code you got when you wrote to us, for example {example}"),
            example=format_html('<bdi dir="ltr">{}</bdi>', "7K2M-XQ4P-…"),
        )


class ReplyForm(forms.Form):
    body = TextField(
        label=_("Your answer"),
        max_length=settings.MESSAGE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": settings.MESSAGE_MAX_CHARS}),
        error_messages={"required": _("Please write something before sending.")},
    )


class PartnerAnswerForm(forms.Form):
    """One answer of a partner organisation on its page (helpdesk/partners.py): one of
    the referral's next states, or a message to the volunteer. `answer` names it, and
    is the form's prefix, so that the page's forms each keep their own ids."""

    MESSAGE = partners.MESSAGE
    REASONS = [
        (Referral.FailureReason.OUT_OF_MANDATE, _("It is outside our mandate")),
        (Referral.FailureReason.NO_CAPACITY, _("We have no capacity now")),
        (Referral.FailureReason.NOT_COVERED, _("We do not work in the person's country")),
        (Referral.FailureReason.OTHER, _("Another reason (please say which)")),
    ]
    NOTE_LABELS = {
        Referral.Status.ACCEPTED: _("Anything the volunteer should know"),
        Referral.Status.DECLINED: _("A few words for the volunteer"),
        Referral.Status.COMPLETED: _("How it ended"),
        MESSAGE: _("Your message to the volunteer"),
    }
    NOTE_NEEDED = {Referral.Status.COMPLETED, MESSAGE}

    reason = forms.ChoiceField(
        label=_("Why you cannot help"),
        choices=[("", "—"), *REASONS],
        error_messages={"required": _("Please choose a reason.")},
    )
    note = TextField(
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
        error_messages={"required": _("Please write a few words.")},
    )

    def __init__(self, answer: str, *args, **kwargs) -> None:
        super().__init__(*args, prefix=answer, **kwargs)
        self.answer = answer
        if answer != Referral.Status.DECLINED:
            del self.fields["reason"]
        if answer in self.NOTE_LABELS:
            self.fields["note"].label = self.NOTE_LABELS[answer]
            self.fields["note"].required = answer in self.NOTE_NEEDED
        else:
            del self.fields["note"]

    def clean(self) -> dict:
        cleaned = super().clean()
        other = cleaned.get("reason") == Referral.FailureReason.OTHER
        if other and not cleaned.get("note"):
            self.add_error("note", _("Please say which reason."))
        cleaned.setdefault("reason", "")
        cleaned.setdefault("note", "")
        return cleaned
