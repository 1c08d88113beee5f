"""The library's editing screens, for coordinators (the admin is theirs alone; see
helpdesk.backends). Guidance shows its stale and out-of-date flags in the list and a
rendering of each saved body, exactly as the public pages will show it."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from resources.models import (
    REVIEW_SOON_DAYS,
    Guidance,
    GuidanceReview,
    GuidanceSource,
    GuidanceTranslation,
    Language,
    Need,
    NeedTranslation,
    Organisation,
    OrganisationSource,
    OrganisationTranslation,
    ReferralTemplate,
    TemplateSource,
    TranslatedText,
)
from resources.rendering import render_markdown

# What a template looks like filled in, shown under the saved template.
EXAMPLE_VALUES = {
    "need": "Asylum in Belgium",
    "country": "Uganda",
    "languages": "English, Luganda",
    "volunteer_first_name": "Noor",
    "case_reference": "HVN-7Q4K-2M9X",
    "organisation": "Example Organisation",
}


class LibraryAdminMixin:
    # An address typed without a scheme is https (Django 6's default, said now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    class Media:
        css = {"all": ["resources/admin.css"]}


class SourceInline(admin.StackedInline):
    extra = 0
    fields = ["url", "title", "checked_on", "supports", "position"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class GuidanceSourceInline(SourceInline):
    model = GuidanceSource


class OrganisationSourceInline(SourceInline):
    model = OrganisationSource


class TemplateSourceInline(SourceInline):
    model = TemplateSource


def translation_state(translation: TranslatedText, source: TranslatedText | None) -> str:
    """What the list and the forms say about a translation's version."""
    if translation.is_source():
        return _("Source text")
    if translation.is_out_of_date(source):
        return _("Out of date: made from an earlier version of the source text")
    return _("Up to date")


class ConfirmTranslationForm(forms.ModelForm):
    """A translation form with a box that records it was checked against the current
    source text (it then counts as made from that version)."""

    checked = forms.BooleanField(
        label=_("Checked against the source text"),
        required=False,
        help_text=_(
            "Tick this when the translation says what the current source text says; "
            "it is then no longer flagged as out of date."
        ),
    )

    def source_text(self) -> TranslatedText | None:
        raise NotImplementedError

    def save(self, commit: bool = True):
        translation = super().save(commit=False)
        source = self.source_text()
        if self.cleaned_data.get("checked") and source is not None:
            translation.mark_current(source)
        if commit:
            translation.save()
            self.save_m2m()
        return translation


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "native_name", "right_to_left"]


class NeedTranslationInline(admin.StackedInline):
    model = NeedTranslation
    extra = 0


@admin.register(Need)
class NeedAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "position", "languages"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [NeedTranslationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("translations")

    @admin.display(description=_("translated into"))
    def languages(self, need: Need) -> str:
        return " ".join(sorted(t.language_id for t in need.translations.all()))


class OrganisationTranslationForm(ConfirmTranslationForm):
    def source_text(self) -> TranslatedText | None:
        organisation = self.instance.organisation
        return organisation.source_translation() if organisation.pk else None

    class Meta:
        model = OrganisationTranslation
        fields = ["language", "offers", "safe_contact", "response_time"]
        widgets = {
            "offers": forms.Textarea(attrs={"dir": "auto", "rows": 4}),
            "safe_contact": forms.Textarea(attrs={"dir": "auto", "rows": 4}),
            "response_time": forms.TextInput(attrs={"dir": "auto"}),
        }


class OrganisationTranslationInline(admin.StackedInline):
    model = OrganisationTranslation
    form = OrganisationTranslationForm
    extra = 0
    fields = ["language", "offers", "safe_contact", "response_time", "checked", "status"]
    readonly_fields = ["status"]

    @admin.display(description=_("status"))
    def status(self, translation: OrganisationTranslation) -> str:
        if not translation.pk:
            return "—"
        return translation_state(translation, translation.organisation.source_translation())


@admin.register(Organisation)
class OrganisationAdmin(LibraryAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "where", "takes_referrals", "verified_on", "translated_into"]
    list_filter = ["takes_referrals", "needs", "languages", "verified_on"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["needs", "languages"]
    inlines = [OrganisationSourceInline, OrganisationTranslationInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["name", "slug", "website", "needs", "countries", "languages"]}),
        (
            _("Referrals"),
            {
                "fields": [
                    "takes_referrals",
                    "referral_address",
                    "answer_days",
                    "secure_channels",
                ]
            },
        ),
        (None, {"fields": ["verified_on"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("translations")

    @admin.display(description=_("countries"))
    def where(self, organisation: Organisation) -> str:
        return ", ".join(c.code for c in organisation.countries) or _("everywhere")

    @admin.display(description=_("translated into"))
    def translated_into(self, organisation: Organisation) -> str:
        return " ".join(sorted(t.language_id for t in organisation.translations.all()))


class GuidanceTranslationForm(ConfirmTranslationForm):
    def source_text(self) -> TranslatedText | None:
        guidance = self.instance.guidance
        return guidance.source_translation() if guidance.pk else None

    class Meta:
        model = GuidanceTranslation
        fields = ["language", "title", "summary", "body"]
        # dir="auto": Arabic or Persian text is typed and read right to left.
        widgets = {
            "title": forms.TextInput(attrs={"dir": "auto"}),
            "summary": forms.TextInput(attrs={"dir": "auto"}),
            "body": forms.Textarea(attrs={"dir": "auto", "rows": 18}),
        }


class GuidanceTranslationFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        source = self.instance.source_language_id
        kept = {
            form.cleaned_data["language"].code
            for form in self.forms
            if form.cleaned_data.get("language") and not form.cleaned_data.get("DELETE")
        }
        if source and source not in kept:
            raise forms.ValidationError(
                _("Write the text in the source language (%(code)s) too: it is the fallback."),
                params={"code": source},
            )


class GuidanceTranslationInline(admin.StackedInline):
    model = GuidanceTranslation
    form = GuidanceTranslationForm
    formset = GuidanceTranslationFormSet
    extra = 0
    fields = ["language", "title", "summary", "body", "checked", "status", "preview"]
    readonly_fields = ["status", "preview"]

    @admin.display(description=_("status"))
    def status(self, translation: GuidanceTranslation) -> str:
        if not translation.pk:
            return "—"
        state = translation_state(translation, translation.guidance.source_translation())
        history = reverse("admin:resources_guidancetranslation_history", args=[translation.pk])
        return format_html(
            '{} · {} {} · <a href="{}">{}</a>',
            state,
            _("last changed"),
            timezone.localtime(translation.updated_at).strftime("%Y-%m-%d %H:%M"),
            history,
            _("history"),
        )

    @admin.display(description=_("preview of the saved text"))
    def preview(self, translation: GuidanceTranslation) -> str:
        if not translation.pk:
            return _("Save to see the preview.")
        return format_html(
            '<div class="markdown-preview" lang="{}" dir="{}">{}</div>',
            translation.language_id,
            translation.language.direction,
            render_markdown(translation.body),
        )


class GuidanceReviewInline(admin.TabularInline):
    """The review history, as recorded on the desk's review page."""

    model = GuidanceReview
    extra = 0
    fields = ["at", "reviewer", "legal", "languages", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # reviews are recorded on the desk's review page

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReviewFilter(admin.SimpleListFilter):
    title = _("review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("stale", _("Stale: past its review date")),
            ("soon", _("Review due within 30 days")),
            ("current", _("Current")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "stale":
            return queryset.stale(today)
        if self.value() == "soon":
            return queryset.filter(
                review_by__gte=today, review_by__lte=today + timedelta(REVIEW_SOON_DAYS)
            )
        if self.value() == "current":
            return queryset.filter(review_by__gte=today)
        return queryset


class OutOfDateFilter(admin.SimpleListFilter):
    title = _("translations")
    parameter_name = "out_of_date"

    def lookups(self, request, model_admin):
        return [("yes", _("Some out of date")), ("no", _("All up to date"))]

    def queryset(self, request, queryset):
        if self.value() in {"yes", "no"}:
            return queryset.filter(has_out_of_date=self.value() == "yes")
        return queryset


class TranslatedIntoFilter(admin.SimpleListFilter):
    title = _("translated into")
    parameter_name = "language"

    def lookups(self, request, model_admin):
        return [(language.code, language.name) for language in Language.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(translations__language=self.value())
        return queryset


class MissingTranslationFilter(TranslatedIntoFilter):
    title = _("not yet translated into")
    parameter_name = "missing"

    def queryset(self, request, queryset):
        if self.value():
            return queryset.exclude(translations__language=self.value())
        return queryset


@admin.register(Guidance)
class GuidanceAdmin(LibraryAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "title",
        "audience",
        "review_by",
        "reviewed_in_time",
        "translations_up_to_date",
        "translated_into",
    ]
    list_display_links = ["title"]
    list_filter = [
        ReviewFilter,
        OutOfDateFilter,
        "audience",
        "needs",
        TranslatedIntoFilter,
        MissingTranslationFilter,
        "emergency",
    ]
    search_fields = ["slug", "translations__title"]
    filter_horizontal = ["needs"]
    inlines = [GuidanceSourceInline, GuidanceTranslationInline, GuidanceReviewInline]
    fieldsets = [
        (None, {"fields": ["slug", "audience", "needs", "countries", "source_language"]}),
        (_("Order"), {"fields": ["emergency", "position"]}),
        (
            _("Review"),
            {"fields": ["owner", "owner_role", "legal", "reviewed_on", "review_by"]},
        ),
    ]
    readonly_fields = ["reviewed_on"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate_out_of_date()
            .prefetch_related("translations")
            .distinct()
        )

    @admin.display(description=_("title"))
    def title(self, guidance: Guidance) -> str:
        source = guidance.source_translation()
        return source.title if source else "—"

    # Both flags read "green is good": a stale piece and out-of-date translations show red.
    @admin.display(description=_("not stale"), boolean=True)
    def reviewed_in_time(self, guidance: Guidance) -> bool:
        return not guidance.is_stale()

    @admin.display(description=_("translations current"), boolean=True)
    def translations_up_to_date(self, guidance: Guidance) -> bool:
        return not guidance.has_out_of_date

    @admin.display(description=_("translated into"))
    def translated_into(self, guidance: Guidance) -> str:
        out_of_date = set(guidance.out_of_date_languages())
        return format_html_join(
            " ",
            "{}",
            (
                (f"{code} ({_('out of date')})" if code in out_of_date else code,)
                for code in sorted(t.language_id for t in guidance.translations.all())
            ),
        )


@admin.register(GuidanceTranslation)
class GuidanceTranslationAdmin(SimpleHistoryAdmin):
    """Reached from a guidance page, for the history of one translation's text."""

    list_display = ["title", "guidance", "language", "updated_at"]
    list_filter = ["language"]
    search_fields = ["title", "guidance__slug"]

    def get_model_perms(self, request) -> dict:
        return {}  # edited inline on the guidance; kept off the admin index


@admin.register(ReferralTemplate)
class ReferralTemplateAdmin(LibraryAdminMixin, SimpleHistoryAdmin):
    list_display = ["slug", "organisation", "need", "language", "version"]
    list_filter = ["need", "language", "organisation"]
    search_fields = ["slug", "subject", "body"]
    list_select_related = ["organisation", "need", "language", "translation_of"]
    readonly_fields = ["version", "example"]
    fields = [
        "slug",
        "organisation",
        "need",
        "language",
        "translation_of",
        "subject",
        "body",
        "consent",
        "version",
        "example",
    ]
    inlines = [TemplateSourceInline]

    @admin.display(description=_("translation"))
    def version(self, template: ReferralTemplate) -> str:
        if not template.pk:
            return "—"
        return translation_state(template, template.translation_of)

    @admin.display(description=_("example, filled in"))
    def example(self, template: ReferralTemplate) -> str:
        if not template.pk:
            return _("Save to see an example.")
        try:
            filled = template.render(
                {**EXAMPLE_VALUES, "organisation": template.organisation.name}, consented=True
            )
        except ValidationError:
            return _("Correct the placeholders to see an example.")
        return format_html(
            '<div class="filled-template"><p><strong>{}</strong></p><pre>{}</pre></div>',
            filled.subject,
            filled.body,
        )
