from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from resources import placeholders, versions
from resources.versions import text_version


class Language(models.Model):
    """A language the desk serves; coordinators can add more."""

    code = models.SlugField(_("code"), max_length=12, unique=True, help_text=_("BCP 47, e.g. ar"))
    name = models.CharField(_("name in English"), max_length=80)
    native_name = models.CharField(_("name in the language itself"), max_length=80)
    right_to_left = models.BooleanField(_("written right to left"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("language")
        verbose_name_plural = _("languages")

    def __str__(self) -> str:
        return f"{self.native_name} ({self.code})"

    @property
    def direction(self) -> str:
        return "rtl" if self.right_to_left else "ltr"


def language_field(verbose_name: str, **kwargs) -> models.ForeignKey:
    # Keyed by code, so that `translation.language_id` is "ar" and filtering by the
    # codes a person gave needs no join.
    kwargs.setdefault("db_column", "language_code")
    return models.ForeignKey(
        Language, on_delete=models.PROTECT, to_field="code", verbose_name=verbose_name, **kwargs
    )


def pick_translation(
    translations: Iterable, preferences: Sequence[str], *fallbacks: str
) -> tuple[object | None, bool]:
    """The translation in the first preferred language that exists, else in the first
    fallback language that exists, else any; and whether it is a fallback."""
    by_language = {translation.language_id: translation for translation in translations}
    for code in preferences:
        if code in by_language:
            return by_language[code], False
    for code in (*fallbacks, *sorted(by_language)):
        if code in by_language:
            return by_language[code], True
    return None, True


# /guide/friend/ is the friend's page, so no need may be called "friend".
RESERVED_NEED_SLUGS = frozenset({"friend"})


class NeedQuerySet(models.QuerySet):
    def with_translations(self) -> NeedQuerySet:
        return self.prefetch_related(
            models.Prefetch(
                "translations", queryset=NeedTranslation.objects.select_related("language")
            )
        )


class Need(models.Model):
    """What a person needs help with: the vocabulary cases are routed by."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("one-line description"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = NeedQuerySet.as_manager()

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("need")
        verbose_name_plural = _("needs")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.slug in RESERVED_NEED_SLUGS:
            raise ValidationError({"slug": _("This word is taken by a page of the guide.")})

    def localized(self, language_code: str) -> NeedTranslation:
        """The need's name and description in that language, else in English.

        A need a coordinator added without any translation still has its own name, so
        this always returns something to show; check `language_id` for a fallback."""
        by_language = {t.language_id: t for t in self.translations.all()}
        for code in (language_code, settings.LANGUAGE_CODE):
            if code in by_language:
                return by_language[code]
        return NeedTranslation(
            need=self,
            language_id=settings.LANGUAGE_CODE,
            name=self.name,
            description=self.description,
        )


class NeedTranslation(models.Model):
    need = models.ForeignKey(
        Need, on_delete=models.CASCADE, related_name="translations", verbose_name=_("need")
    )
    language = language_field(_("language"), related_name="+")
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("one-line description"), max_length=300, blank=True)

    class Meta:
        ordering = ["need", "language"]
        constraints = [
            models.UniqueConstraint(fields=["need", "language"], name="one_need_translation")
        ]
        verbose_name = _("need translation")
        verbose_name_plural = _("need translations")

    def __str__(self) -> str:
        return f"{self.name} ({self.language_id})"


class Audience(models.TextChoices):
    PERSON = "person", _("The person at risk")
    FRIEND = "friend", _("A friend helping")
    VOLUNTEER = "volunteer", _("Volunteers only")


def countries_field() -> CountryField:
    return CountryField(
        _("countries"),
        multiple=True,
        blank=True,
        help_text=_("Leave empty when it applies everywhere."),
    )


def country_fit(countries: Sequence, country: str | None) -> int | None:
    """How well an item with these `countries` fits a person in `country`: 0 made for
    their country, 1 for everywhere (an empty list), 2 for somewhere else while their
    country is unknown (an unknown country hides nothing); None: not for them."""
    if not countries:
        return 1
    if country is None:
        return 2
    return 0 if country.upper() in {c.code for c in countries} else None


class TranslatedText(models.Model):
    """A text in one language that is either the source text or a translation of it.

    `text_hash` is the version of this text; a translation records in `source_hash` the
    version of the source text it was made from. When the source text changes, every
    translation made from the old version is out of date, whoever edited what where.
    Subclasses say which fields make the text and which object is their source."""

    TEXT_FIELDS: tuple[str, ...] = ()

    text_hash = models.CharField(
        _("version of this text"), max_length=16, default="", editable=False
    )
    source_hash = models.CharField(
        _("made from source version"),
        max_length=16,
        blank=True,
        help_text=_("The version of the source text this translation was made from."),
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.text_hash = self.current_text_version()
        if self.is_source():
            self.source_hash = self.text_hash
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "text_hash", "source_hash"}
        super().save(*args, **kwargs)

    def is_source(self) -> bool:
        raise NotImplementedError

    def current_text_version(self) -> str:
        return text_version(*(getattr(self, name) for name in self.TEXT_FIELDS))

    def is_out_of_date(self, source: TranslatedText | None) -> bool:
        """Made from another version of the source text than the current one."""
        return (
            source is not None
            and not self.is_source()
            and self.source_hash != source.current_text_version()
        )

    def mark_current(self, source: TranslatedText) -> None:
        """Record that this translation says what the current source text says."""
        self.source_hash = source.current_text_version()


class Source(models.Model):
    """Where a fact comes from: an address, its title, when someone read it, and which
    statements it supports. Guidance, organisations and templates each keep theirs."""

    url = models.URLField(_("address"), max_length=500)
    title = models.CharField(_("title"), max_length=300)
    checked_on = models.DateField(_("checked on"))
    supports = models.TextField(
        _("what it supports"), help_text=_("The facts this source confirms, in a few words.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        abstract = True
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if urlsplit(self.url).scheme != "https":
            raise ValidationError({"url": _("A source's address must start with https://.")})


class OwnerRole(models.TextChoices):
    """Who keeps a piece true when no one person is named."""

    COORDINATORS = "coordinators", _("Coordinators")
    LEGAL = "legal-reviewers", _("Legal reviewers")


# What a piece may need from a coordinator (Guidance.review_needs), most pressing first.
REVIEW_OVERDUE = "overdue"
LEGAL_REVIEW_MISSING = "legal"
TRANSLATIONS_BEHIND = "translations"
REVIEW_SOON = "soon"
REVIEW_SOON_DAYS = 30

# Held only by coordinators it is given to (helpdesk.backends does not grant it with the
# role): a lawyer, or a coordinator trained to check the legal pieces.
LEGAL_REVIEW_PERMISSION = "resources.review_legal"


class Organisation(models.Model):
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=160)
    website = models.URLField(_("website"), blank=True)
    needs = models.ManyToManyField(Need, related_name="organisations", verbose_name=_("needs"))
    countries = countries_field()
    languages = models.ManyToManyField(
        Language,
        related_name="organisations",
        blank=True,
        verbose_name=_("languages they work in"),
    )
    verified_on = models.DateField(
        _("last verified on"), help_text=_("When someone last checked this entry is right.")
    )
    # The partner directory: how a referral reaches the organisation and what to expect.
    takes_referrals = models.BooleanField(
        _("takes referrals through Haven"),
        default=False,
        help_text=_(
            "Only when the organisation has agreed to receive referrals by Haven's link and "
            "answer them there."
        ),
    )
    referral_address = models.EmailField(
        _("address referrals go to"),
        blank=True,
        help_text=_("Haven emails a link here, never any detail of the person."),
    )
    answer_days = models.PositiveSmallIntegerField(
        _("usually answers within (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("Expected days to a first answer, as the organisation states it."),
    )
    secure_channels = models.CharField(
        _("secure channels"),
        max_length=300,
        blank=True,
        help_text=_("How volunteers reach them safely, e.g. Signal, encrypted email."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.takes_referrals and not self.referral_address:
            raise ValidationError(
                {"referral_address": _("Say where referrals through Haven go.")}
            )

    def covers(self, country: str | None) -> bool:
        """Whether it works in `country` (everywhere when it names no country; an
        unknown country is not held against it)."""
        return country_fit(self.countries, country) is not None

    def works_in_any(self, codes: Iterable[str]) -> bool | None:
        """Whether it works in one of these languages; None when its languages are not
        recorded. Reads `languages`, prefetched where many are asked."""
        own = {language.code for language in self.languages.all()}
        return bool(own & set(codes)) if own else None

    def source_translation(self) -> OrganisationTranslation | None:
        for translation in self.translations.all():
            if translation.is_source():
                return translation
        return None

    def out_of_date_languages(self) -> list[str]:
        source = self.source_translation()
        return sorted(
            translation.language_id
            for translation in self.translations.all()
            if translation.is_out_of_date(source)
        )

    @property
    def website_host(self) -> str:
        """Where the website link leads, shown next to it so nobody is surprised."""
        host = urlsplit(self.website).hostname or ""
        return host.removeprefix("www.")


class OrganisationSource(Source):
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="sources",
        verbose_name=_("organisation"),
    )

    class Meta(Source.Meta):
        verbose_name = _("source")
        verbose_name_plural = _("sources")


class OrganisationTranslation(TranslatedText):
    TEXT_FIELDS = versions.ORGANISATION_TEXT

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="translations",
        verbose_name=_("organisation"),
    )
    language = language_field(_("language"), related_name="+")
    offers = models.TextField(_("what they offer"))
    safe_contact = models.TextField(_("how to contact them safely"), blank=True)
    response_time = models.CharField(_("usual response time"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "language"], name="one_organisation_translation"
            )
        ]
        verbose_name = _("organisation translation")
        verbose_name_plural = _("organisation translations")

    def __str__(self) -> str:
        return f"{self.organisation} ({self.language_id})"

    def is_source(self) -> bool:
        # Organisations are written in the desk's own language first.
        return self.language_id == settings.LANGUAGE_CODE


class GuidanceQuerySet(models.QuerySet):
    def for_need(self, need: str) -> GuidanceQuerySet:
        """Pieces for that need, and the ones for every need (no needs chosen)."""
        return self.filter(Q(needs__slug=need) | Q(needs=None))

    def general(self) -> GuidanceQuerySet:
        """Pieces for every need: none chosen, or all of them."""
        return self.alias(need_count=Count("needs", distinct=True)).filter(
            Q(need_count=0) | Q(need_count=Need.objects.count())
        )

    def for_audiences(self, audiences: Iterable[str]) -> GuidanceQuerySet:
        return self.filter(audience__in=list(audiences))

    def with_translations(self) -> GuidanceQuerySet:
        """With what any page shows of a piece: its texts and its sources."""
        return self.prefetch_related(
            models.Prefetch(
                "translations",
                queryset=GuidanceTranslation.objects.select_related("language"),
            ),
            "sources",
        )

    def with_reviews(self) -> GuidanceQuerySet:
        """With its texts, sources and review history (the coordinators' review)."""
        return self.with_translations().prefetch_related("reviews").select_related("owner")

    def stale(self, today: date | None = None) -> GuidanceQuerySet:
        return self.filter(review_by__lt=today or timezone.localdate())

    def annotate_out_of_date(self) -> GuidanceQuerySet:
        """`has_out_of_date`: some translation was made from another version of the
        source-language text than the current one."""
        source_version = GuidanceTranslation.objects.filter(
            guidance=OuterRef("guidance"), language=OuterRef("guidance__source_language")
        ).values("text_hash")[:1]
        older = (
            GuidanceTranslation.objects.filter(guidance=OuterRef("pk"))
            .exclude(language=F("guidance__source_language"))
            .annotate(source_version=Subquery(source_version))
            .exclude(source_hash=F("source_version"))
        )
        return self.annotate(has_out_of_date=Exists(older))

    def overdue_unannounced(self, today: date | None = None) -> GuidanceQuerySet:
        """Past their review-by date, and no coordinator told yet."""
        return self.stale(today).filter(review_notified_at__isnull=True)


class Guidance(models.Model):
    """One piece of guidance, in several languages (see GuidanceTranslation)."""

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    audience = models.CharField(
        _("written for"), max_length=20, choices=Audience.choices, default=Audience.PERSON
    )
    needs = models.ManyToManyField(
        Need,
        related_name="guidance",
        blank=True,
        verbose_name=_("needs"),
        help_text=_("Leave empty when it helps whatever the need."),
    )
    countries = countries_field()
    emergency = models.BooleanField(
        _("emergency"), default=False, help_text=_("Shown before everything else.")
    )
    position = models.PositiveSmallIntegerField(
        _("position"), default=100, help_text=_("Lower comes first.")
    )
    source_language = language_field(
        _("source language"),
        related_name="+",
        db_column="source_language_code",
        default="en",
        help_text=_("Translations are kept in step with the text in this language."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
        help_text=_("The staff member who keeps this piece true. Empty: the owning role."),
    )
    owner_role = models.CharField(
        _("owning role"),
        max_length=20,
        choices=OwnerRole.choices,
        default=OwnerRole.COORDINATORS,
    )
    legal = models.BooleanField(
        _("states the law"),
        default=False,
        help_text=_("Needs a legal reviewer's review whenever its source text changes."),
    )
    reviewed_on = models.DateField(_("last reviewed on"), null=True, blank=True, editable=False)
    review_by = models.DateField(
        _("review by"), help_text=_("After this date the piece is flagged as stale.")
    )
    # Set when the coordinators are told the piece is overdue, so they are told once.
    review_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = HistoricalRecords()
    objects = GuidanceQuerySet.as_manager()

    class Meta:
        ordering = ["-emergency", "position", "slug"]
        verbose_name = _("guidance")
        verbose_name_plural = _("guidance")
        permissions = [("review_legal", _("Can record the legal review of guidance"))]

    def __str__(self) -> str:
        return self.slug

    def clean(self) -> None:
        if self.reviewed_on and self.review_by and self.review_by < self.reviewed_on:
            raise ValidationError(
                {"review_by": _("The review date cannot be before the last review.")}
            )

    def is_stale(self, today: date | None = None) -> bool:
        return (today or timezone.localdate()) > self.review_by

    def source_translation(self) -> GuidanceTranslation | None:
        for translation in self.translations.all():
            if translation.language_id == self.source_language_id:
                return translation
        return None

    def source_version(self) -> str:
        source = self.source_translation()
        return source.current_text_version() if source else ""

    def out_of_date_languages(self) -> list[str]:
        source = self.source_translation()
        return sorted(
            translation.language_id
            for translation in self.translations.all()
            if translation.is_out_of_date(source)
        )

    def review_needs(self, today: date | None = None) -> list[str]:
        """What a coordinator has to do for this piece now, most pressing first: a
        review past its date, a legal review of the current text, translations behind
        the source text, a review falling due within REVIEW_SOON_DAYS. Empty: nothing."""
        today = today or timezone.localdate()
        needs = []
        if self.is_stale(today):
            needs.append(REVIEW_OVERDUE)
        if self.needs_legal_review():
            needs.append(LEGAL_REVIEW_MISSING)
        if self.out_of_date_languages():
            needs.append(TRANSLATIONS_BEHIND)
        if not self.is_stale(today) and self.review_by <= today + timedelta(REVIEW_SOON_DAYS):
            needs.append(REVIEW_SOON)
        return needs

    def needs_legal_review(self) -> bool:
        """States the law, and no legal reviewer has reviewed its current source text."""
        if not self.legal:
            return False
        current = self.source_version()
        return not any(r.legal and r.source_hash == current for r in self.reviews.all())

    def owner_label(self) -> str:
        return str(self.owner) if self.owner_id else self.get_owner_role_display()

    @transaction.atomic
    def record_review(
        self,
        *,
        by,
        note: str = "",
        legal: bool = False,
        languages: Iterable[str] = (),
        today: date | None = None,
    ) -> GuidanceReview:
        """A staff member read the piece against its sources and found it true.

        The next review is due REVIEW_INTERVAL_DAYS later. The translations named in
        `languages` were read against the source text too and now count as made from
        it. A legal review needs the legal reviewer's permission."""
        if legal and not by.has_perm(LEGAL_REVIEW_PERMISSION):
            raise PermissionDenied("Only a legal reviewer can record a legal review.")
        today = today or timezone.localdate()
        source = self.source_translation()
        confirmed = []
        for translation in self.translations.all():
            if translation.language_id in set(languages) and translation != source:
                translation.mark_current(source)
                translation._change_reason = "Confirmed against the source text in a review"
                translation.save(update_fields=["source_hash"])
                confirmed.append(translation.language_id)
        review = GuidanceReview.objects.create(
            guidance=self,
            reviewed_by=by,
            reviewer=str(by),
            legal=legal,
            source_hash=self.source_version(),
            languages=sorted(confirmed),
            note=note,
        )
        self.reviewed_on = today
        self.review_by = today + timedelta(days=settings.GUIDANCE_REVIEW_INTERVAL_DAYS)
        self.review_notified_at = None
        self._change_reason = "Reviewed"
        self.save(update_fields=["reviewed_on", "review_by", "review_notified_at"])
        return review


class GuidanceSource(Source):
    guidance = models.ForeignKey(
        Guidance, on_delete=models.CASCADE, related_name="sources", verbose_name=_("guidance")
    )

    class Meta(Source.Meta):
        verbose_name = _("source")
        verbose_name_plural = _("sources")


class GuidanceReview(models.Model):
    """One review of a piece: who read it against its sources, when, and what changed."""

    guidance = models.ForeignKey(
        Guidance, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("guidance")
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    # The name as it was, kept when the account is gone.
    reviewer = models.CharField(_("reviewer"), max_length=200)
    at = models.DateTimeField(_("reviewed at"), default=timezone.now)
    legal = models.BooleanField(_("legal review"), default=False)
    source_hash = models.CharField(_("source version reviewed"), max_length=16)
    languages = models.JSONField(_("translations confirmed"), default=list, blank=True)
    note = models.TextField(_("what changed"), blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")

    def __str__(self) -> str:
        return f"{self.guidance} {self.at:%Y-%m-%d} {self.reviewer}"


class GuidanceTranslation(TranslatedText):
    TEXT_FIELDS = versions.GUIDANCE_TEXT

    guidance = models.ForeignKey(
        Guidance, on_delete=models.CASCADE, related_name="translations", verbose_name=_("guidance")
    )
    language = language_field(_("language"), related_name="+")
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=400, blank=True)
    body = models.TextField(_("body"), help_text=_("Markdown. Links must start with https://."))
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["guidance", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["guidance", "language"], name="one_guidance_translation"
            )
        ]
        verbose_name = _("guidance translation")
        verbose_name_plural = _("guidance translations")

    def __str__(self) -> str:
        return f"{self.title} ({self.language_id})"

    def is_source(self) -> bool:
        return self.language_id == self.guidance.source_language_id


class ReferralTemplateQuerySet(models.QuerySet):
    def for_need(self, need: str) -> ReferralTemplateQuerySet:
        return self.filter(need__slug=need)


class ReferralTemplate(TranslatedText):
    """A message a volunteer sends to an organisation, with named placeholders. The
    same message in other languages points at its source with `translation_of`."""

    TEXT_FIELDS = versions.TEMPLATE_TEXT

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="referral_templates",
        verbose_name=_("organisation"),
    )
    need = models.ForeignKey(
        Need, on_delete=models.PROTECT, related_name="referral_templates", verbose_name=_("need")
    )
    language = language_field(_("language"), related_name="+")
    translation_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="translations",
        verbose_name=_("translation of"),
        help_text=_("The template in the source language; empty for a source text."),
    )
    subject = models.CharField(_("subject"), max_length=200, help_text=placeholders.HELP)
    body = models.TextField(_("body"), help_text=placeholders.HELP)
    consent = models.CharField(
        _("what it says once the person agreed"),
        max_length=300,
        blank=True,
        help_text=_(
            "Fills {consent} in the message once the person's consent is recorded; until "
            "then {consent} stays empty, so the message never claims an agreement nobody "
            "recorded."
        ),
    )

    history = HistoricalRecords()
    objects = ReferralTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["organisation", "need", "language"]
        verbose_name = _("referral template")
        verbose_name_plural = _("referral templates")

    def __str__(self) -> str:
        return self.slug

    def clean(self) -> None:
        errors = {}
        for field in ("subject", "body", "consent"):
            try:
                placeholders.validate(getattr(self, field))
            except ValidationError as error:
                errors[field] = error
        if self.translation_of_id and self.translation_of_id == self.pk:
            errors["translation_of"] = ValidationError(_("A template cannot translate itself."))
        if errors:
            raise ValidationError(errors)

    def is_source(self) -> bool:
        return self.translation_of_id is None

    @property
    def out_of_date(self) -> bool:
        return self.is_out_of_date(self.translation_of)

    def consent_claim(self, values: placeholders.Values) -> str:
        """The sentence saying the person agreed, filled in ("" when it has none)."""
        return placeholders.fill(self.consent, {**values, "consent": ""})

    def render(self, values: placeholders.Values, *, consented: bool) -> placeholders.Rendered:
        """Subject and body with the placeholders filled in; no database needed.
        {consent} says the person agreed only when their consent is `consented`."""
        values = {**values, "consent": self.consent_claim(values) if consented else ""}
        return placeholders.Rendered(
            subject=placeholders.fill(self.subject, values),
            body=placeholders.fill(self.body, values),
        )


class TemplateSource(Source):
    template = models.ForeignKey(
        ReferralTemplate,
        on_delete=models.CASCADE,
        related_name="sources",
        verbose_name=_("referral template"),
    )

    class Meta(Source.Meta):
        verbose_name = _("source")
        verbose_name_plural = _("sources")
