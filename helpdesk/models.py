from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import connection, models, transaction
from django.db.models import Count, Exists, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from helpdesk import queue, routing
from helpdesk.encryption import (
    CaseEncryptedTextField,
    EncryptedTextField,
    data_key_exists,
    destroy_data_key,
    new_data_key,
)
from helpdesk.roles import Role
from resources.rendering import render_markdown


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("Staff accounts need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        return self.save_new(user)

    def save_new(self, user: User) -> User:
        """Save a new staff account with its volunteer profile: routing, the team page
        and "My availability" all read it. Every account is made here: by invitation,
        in the admin, by createsuperuser, by the demo loader and in the tests."""
        with transaction.atomic(using=self._db):
            user.save(using=self._db)
            VolunteerProfile.objects.create(user=user)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("role", Role.COORDINATOR)
        fields["is_superuser"] = True
        return self.create_user(email, password, **fields)


class User(AbstractUser):
    """A staff account: volunteers and coordinators. Submitters never have one."""

    username = None
    email = models.EmailField(_("email address"), unique=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VOLUNTEER)
    language = models.CharField(
        _("language of the desk's emails"),
        max_length=12,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("staff account")
        verbose_name_plural = _("staff accounts")

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def save(self, *args, **kwargs) -> None:
        # The admin is a coordinators' tool; is_staff follows the role, nothing else.
        self.is_staff = self.role == Role.COORDINATOR
        if kwargs.get("update_fields") is not None and "role" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "is_staff"}
        super().save(*args, **kwargs)

    @property
    def is_coordinator(self) -> bool:
        return self.is_active and self.role == Role.COORDINATOR


def open_case(prefix: str = "") -> Q:
    """A case that is not closed, seen through `prefix` (e.g. "user__cases__"): the one
    definition of "open" for queries over cases and over those who hold them."""
    return ~Q(**{f"{prefix}status": Case.Status.CLOSED})


class VolunteerProfileQuerySet(models.QuerySet):
    def available(self, today: date | None = None) -> VolunteerProfileQuerySet:
        """Who may be given cases now: an active account, not paused."""
        today = today or timezone.localdate()
        return self.filter(user__is_active=True).exclude(paused_until__gte=today)

    def trained_for(self, needs) -> VolunteerProfileQuerySet:
        return self.filter(needs__slug__in=list(needs))

    def speaking(self, codes) -> VolunteerProfileQuerySet:
        return self.filter(languages__code__in=list(codes))

    def with_load(self) -> VolunteerProfileQuerySet:
        """`open_cases`: how many open cases each holds (a volunteer's load)."""
        return self.annotate(
            open_cases=Count("user__cases", filter=open_case("user__cases__"), distinct=True)
        )

    def with_shown_load(self) -> VolunteerProfileQuerySet:
        """with_load() for pages that show it (the team, the hand-over list): counted for
        each person from the index of open cases, instead of grouping every case the
        team ever held (~270 ms at 100,000 cases, ~10 ms this way). That index holds
        the open cases whose content exists, which is every open case: destroying the
        content closes the case (Case.destroy_content). Routing keeps with_load()."""
        held = (
            Case.objects.open()
            .with_content()
            .filter(volunteer=models.OuterRef("user_id"))
            .order_by()
            .values("volunteer")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(
            open_cases=Coalesce(
                models.Subquery(held, output_field=models.IntegerField()), models.Value(0)
            )
        )

    def with_room(self) -> VolunteerProfileQuerySet:
        return self.with_load().filter(open_cases__lt=F("capacity"))

    def eligible_for(self, case: Case, today: date | None = None) -> VolunteerProfileQuerySet:
        """Who routing could give this case now: available, trained for its need,
        speaking one of its languages, below capacity (routing.gaps() in SQL)."""
        return (
            self.available(today)
            .trained_for([case.need.slug])
            .speaking(case.languages)
            .with_room()
            .distinct()
        )


class VolunteerProfile(models.Model):
    """What routing needs to know about a staff member."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    languages = models.ManyToManyField("resources.Language", verbose_name=_("languages spoken"))
    needs = models.ManyToManyField("resources.Need", verbose_name=_("needs trained for"))
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), default=5, help_text=_("Open cases at most.")
    )
    paused_until = models.DateField(_("paused until"), null=True, blank=True)

    objects = VolunteerProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("volunteer profile")
        verbose_name_plural = _("volunteer profiles")

    def __str__(self) -> str:
        return str(self.user)

    def is_paused(self, today: date | None = None) -> bool:
        return routing.is_paused(self.paused_until, today or timezone.localdate())

    def routing_blocks(self, today: date | None = None) -> list[str]:
        """Why routing can give this person no case at all, whatever the case: the team
        page shows it, so nobody looks "available" while nothing can reach them."""
        blocks = []
        if not self.user.is_active:
            blocks.append(_("deactivated"))
        if self.is_paused(today):
            blocks.append(_("paused"))
        if not self.languages.all():
            blocks.append(_("no language set"))
        if not self.needs.all():
            blocks.append(_("not trained for any need"))
        if self.capacity == 0:
            blocks.append(_("capacity 0"))
        return [str(block) for block in blocks]

    def as_candidate(self, *, open_cases: int) -> routing.Candidate:
        """This profile as routing sees it (languages and needs prefetched, or queried)."""
        return routing.Candidate(
            id=self.user_id,
            languages=frozenset(language.code for language in self.languages.all()),
            needs=frozenset(need.slug for need in self.needs.all()),
            capacity=self.capacity,
            open_cases=open_cases,
            active=self.user.is_active,
            paused_until=self.paused_until,
        )


def invitation_expiry() -> timezone.datetime:
    return timezone.now() + timedelta(hours=settings.INVITATION_MAX_AGE_HOURS)


class MailedLink(models.Model):
    """A link mailed to someone who has no account yet, or never will: a long random
    token in its address, of which only a hash is stored. Invitations, set-up links and
    partners' links are made alike."""

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        abstract = True

    @staticmethod
    def hash_token(token: str) -> str:
        # A 256-bit random token needs no salt nor key: nobody can guess one from its hash.
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def new_token(cls) -> tuple[str, str]:
        """A fresh token for the link's address, and the hash to store."""
        token = secrets.token_urlsafe(32)
        return token, cls.hash_token(token)


class SingleUseLinkQuerySet(models.QuerySet):
    def usable(self) -> SingleUseLinkQuerySet:
        unused = {f"{self.model.USED_AT}__isnull": True}
        return self.filter(**unused, expires_at__gt=timezone.now())

    def expired(self) -> SingleUseLinkQuerySet:
        unused = {f"{self.model.USED_AT}__isnull": True}
        return self.filter(**unused, expires_at__lte=timezone.now())


class SingleUseLink(MailedLink):
    """A link mailed by a coordinator: it works once and expires. `USED_AT` names the
    field that records its use."""

    USED_AT = "used_at"

    expires_at = models.DateTimeField(_("expires"), default=invitation_expiry)

    objects = SingleUseLinkQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def is_usable(self) -> bool:
        return getattr(self, self.USED_AT) is None and self.expires_at > timezone.now()


class Invitation(SingleUseLink):
    """A single-use link for a new staff member."""

    USED_AT = "accepted_at"

    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VOLUNTEER)
    invited_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("invited by")
    )
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    # The profile the new account starts with, so that routing can reach them at once.
    language = models.CharField(
        _("language of the desk's emails"),
        max_length=12,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    languages = models.ManyToManyField(
        "resources.Language", blank=True, related_name="+", verbose_name=_("languages spoken")
    )
    needs = models.ManyToManyField(
        "resources.Need", blank=True, related_name="+", verbose_name=_("needs trained for")
    )
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=5)

    class Meta(SingleUseLink.Meta):
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return self.email


class FactorReset(SingleUseLink):
    """A coordinator reset someone's second factor: the link lets them choose a password
    and enrol again."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="+", verbose_name=_("staff account")
    )
    requested_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("reset by")
    )
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta(SingleUseLink.Meta):
        verbose_name = _("second factor reset")
        verbose_name_plural = _("second factor resets")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def email(self) -> str:
        return self.user.email


class EncryptionCanary(models.Model):
    """One row of known text, proving at start-up that the keys read stored data."""

    value = EncryptedTextField()

    class Meta:
        verbose_name = _("encryption canary")

    def __str__(self) -> str:
        return "encryption canary"


MAX_LANGUAGES = 3  # the intake form asks for three at most


# What a case list shows of a case (helpdesk/templatetags/desk.py, case_rows): only these
# columns are read, so a list neither fetches nor decrypts any content, nor turns a
# receipt's hash or five other moments into Python for nothing.
LISTED = (
    "reference", "urgent", "escalated_at", "duress_at", "status", "languages", "created_at",
    "need__name", "volunteer__first_name", "volunteer__last_name", "volunteer__email",
)  # fmt: skip


class CaseQuerySet(models.QuerySet):
    def open(self) -> CaseQuerySet:
        return self.filter(open_case())

    def awaiting_routing(self) -> CaseQuerySet:
        return self.filter(needs_routing=True, content_destroyed_at__isnull=True)

    def with_content(self) -> CaseQuerySet:
        return self.filter(content_destroyed_at__isnull=True)

    def held_by(self, user) -> CaseQuerySet:
        """A volunteer's open cases: their load."""
        return self.open().filter(volunteer=user)

    def pool(self) -> CaseQuerySet:
        """The pool: open cases with their content that routing has looked at and left
        with nobody. (A case just submitted is not in it until routing has run.) What
        coordinators, volunteers, the drain and the shortage table all mean by it."""
        return self.open().with_content().filter(volunteer__isnull=True, needs_routing=False)

    def speaking_any(self, codes) -> CaseQuerySet:
        """Cases whose languages include one of `codes`. PostgreSQL tests the JSON
        array's elements in one step (`?|`); elsewhere the list is short and tested by
        position."""
        codes = sorted(codes)
        if not codes:
            return self.none()
        if connection.vendor == "postgresql":
            return self.filter(languages__has_any_keys=codes)
        condition = Q(pk__in=[])
        for position in range(MAX_LANGUAGES):
            condition |= Q(**{f"languages__{position}__in": codes})
        return self.filter(condition)

    def qualified_for(self, user) -> CaseQuerySet:
        """Cases this staff member is trained for and speaks a language of."""
        # One query for both lists: a row per (need, language) pair the profile holds.
        pairs = VolunteerProfile.objects.filter(user=user).values_list("needs", "languages__code")
        needs = {need for need, _ in pairs if need is not None}
        codes = {code for _, code in pairs if code is not None}
        if not needs or not codes:
            return self.none()
        return self.filter(need__in=sorted(needs)).speaking_any(codes)

    def loads(self, user_ids) -> dict[int, int]:
        """{volunteer id: open cases held} for these volunteers, in one query."""
        return dict(
            self.open()
            .filter(volunteer_id__in=list(user_ids))
            .order_by()
            .values("volunteer_id")
            .annotate(n=Count("pk"))
            .values_list("volunteer_id", "n")
        )

    def overdue(self, now=None) -> CaseQuerySet:
        """Open cases still without a first answer past their deadline."""
        now = now or timezone.now()
        urgent = now - timedelta(hours=settings.FIRST_RESPONSE_HOURS_URGENT)
        normal = now - timedelta(hours=settings.FIRST_RESPONSE_HOURS)
        return (
            self.open()
            .with_content()
            .filter(first_response_at__isnull=True)
            .filter(Q(urgent=True, created_at__lt=urgent) | Q(urgent=False, created_at__lt=normal))
        )

    def opened_with(self, hashes: list[str]) -> tuple[Case | None, bool]:
        """The case a typed code opens, and whether it was the person's second code: then
        the case is marked, silently, as possibly under duress.

        Every code costs the same work, so that no timing tells a real receipt, a second
        code and a wrong one apart: one look-up on both hashes, then one UPDATE of the
        same columns (of no row at all for a wrong code). Destroyed content opens
        nothing."""
        case = (
            self.with_content()
            .filter(Q(receipt_hash__in=hashes) | Q(duress_hash__in=hashes))
            .select_related("need")
            .first()
        )
        duress = case is not None and case.duress_hash in hashes
        now = timezone.now()
        # The mark is set by the database, from a parameter, so that the statement reads
        # the same for every code; only its values differ.
        Case.objects.filter(pk=case.pk if case else 0).update(
            submitter_seen_at=now,
            duress_at=models.Case(
                models.When(models.Value(duress, output_field=models.BooleanField()), then=now),
                default=F("duress_at"),
            ),
        )
        if case is not None:
            case.submitter_seen_at = now
            case.duress_at = now if duress else case.duress_at
        return case, duress

    def for_listing(self) -> CaseQuerySet:
        """What a case list shows, in a fixed number of queries however long it is. A list
        shows no content: the encrypted fields are neither fetched nor decrypted."""
        latest = Message.objects.filter(case=models.OuterRef("pk")).order_by("-created_at", "-pk")
        return (
            self.select_related("need", "volunteer")
            .only(*LISTED)
            .annotate(
                last_message_at=models.Subquery(latest.values("created_at")[:1]),
                last_message_author=models.Subquery(latest.values("author")[:1]),
            )
        )


# What the daily rollups read of a case and of a referral: saving any of these marks
# their day for recomputing (helpdesk/rollups.py). The volunteer stands for the
# assignments, whose first one the rollups time.
CASE_FIGURES = frozenset(
    {"created_at", "need", "languages", "country", "status", "volunteer", "first_response_at",
     "closed_at", "escalated_at"}
)  # fmt: skip
REFERRAL_FIGURES = frozenset(
    {"created_at", "organisation", "status", "sent_at", "first_answer_at", "outcome_at",
     "failure_reason", "follow_up_on"}
)  # fmt: skip


def changes_figures(update_fields, figures: frozenset[str]) -> bool:
    return update_fields is None or not figures.isdisjoint(update_fields)


class CaseRefused(Exception):
    """An action the case's state or the person's role does not allow. The message is
    for the person who tried; `status` is the HTTP answer (409: not in this state; 403:
    not for you)."""

    def __init__(self, message: str, *, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


class CloseReason(models.TextChoices):
    RESOLVED = "resolved", _("Helped / resolved")
    REFERRED = "referred", _("Referred to an organisation")
    NO_REPLY = "no_reply", _("The person stopped answering")
    WITHDRAWN = "withdrawn", _("The person withdrew")
    OUT_OF_SCOPE = "out_of_scope", _("Not something we can help with")
    DUPLICATE = "duplicate", _("Duplicate of another case")
    DELETED = "deleted", _("Deleted at the person's request")
    RETENTION = "retention", _("Removed after the retention period")


class Case(models.Model):
    """One person's concern. Content fields are encrypted; what stays in clear is what
    routing and anonymous statistics need (need, country, languages, dates, status)."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING = "waiting", _("Waiting for the submitter")
        REFERRED = "referred", _("Referred")
        CLOSED = "closed", _("Closed")

    class ForWhom(models.TextChoices):
        SELF = "self", _("For themselves")
        OTHER = "other", _("For someone they know")

    class Channel(models.TextChoices):
        NONE = "none", _("Only through this website")
        EMAIL = "email", _("Email")
        SIGNAL = "signal", _("Signal")
        PHONE = "phone", _("Phone")
        OTHER = "other", _("Other")

    reference = models.CharField(_("reference"), max_length=12, unique=True, editable=False)
    receipt_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The keyed hash of the person's second code (intake/receipts.py), if they made one:
    # typed instead of the receipt, it opens a harmless decoy inbox and marks the case.
    duress_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)  # noqa: DJ001
    # When the second code was last used: the person may be under duress.
    duress_at = models.DateTimeField(_("opened with the second code"), null=True, blank=True)
    # NULL, not "", once destroyed: a unique column must hold many "no key" values.
    submission_key = models.CharField(max_length=64, unique=True, null=True, editable=False)  # noqa: DJ001
    for_whom = models.CharField(_("for whom"), max_length=8, choices=ForWhom.choices)
    need = models.ForeignKey("resources.Need", on_delete=models.PROTECT, verbose_name=_("need"))
    country = models.CharField(_("country"), max_length=2)
    languages = models.JSONField(_("languages, in order of preference"), default=list)
    language = models.CharField(_("language of the submitter's pages"), max_length=12)
    urgent = models.BooleanField(_("in danger right now"), default=False)
    # The id of this case's data key in the key store (helpdesk/encryption.py): every
    # encrypted field of the case and of its rows is sealed with that key. None once
    # the content is destroyed, with the key.
    key_id = models.UUIDField(null=True, editable=False)
    description = CaseEncryptedTextField(_("what is happening"), blank=True)
    contact_channel = models.CharField(
        _("safe contact"), max_length=8, choices=Channel.choices, default=Channel.NONE
    )
    contact_details = CaseEncryptedTextField(_("contact details"), blank=True)
    contact_safe_times = CaseEncryptedTextField(_("safe times"), blank=True)
    contact_code_word = CaseEncryptedTextField(_("code word"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NEW, db_index=True
    )
    created_at = models.DateTimeField(_("submitted"), default=timezone.now, db_index=True)
    # Set when the case is saved and cleared by routing: a sweep finds every case whose
    # routing task never ran (for example because Redis was down).
    needs_routing = models.BooleanField(default=True, db_index=True)
    volunteer = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        verbose_name=_("volunteer"),
    )
    pool_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    submitter_seen_at = models.DateTimeField(_("submitter last here"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    close_reason = models.CharField(
        _("reason for closing"), max_length=20, choices=CloseReason.choices, blank=True
    )
    first_response_at = models.DateTimeField(_("first answer"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True, db_index=True)
    # The coordinators' notice of the escalation, claimed when sent (sent once).
    escalation_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    content_destroyed_at = models.DateTimeField(_("content destroyed"), null=True, blank=True)
    destroyed_by_submitter = models.BooleanField(default=False)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        # A data key belongs to one case: destroying one case must never make another
        # unreadable. (Also how retention finds keys no case uses.)
        constraints = [models.UniqueConstraint(fields=["key_id"], name="case_own_data_key")]
        # The staff lists show 25 cases, urgent first and then the oldest, out of up to
        # millions: each list reads its page from a small partial index in that order
        # and stops, instead of sorting every case that matches.
        indexes = [
            # A volunteer's open cases.
            models.Index(
                fields=["volunteer", "-urgent", "created_at"],
                condition=models.Q(content_destroyed_at__isnull=True) & ~models.Q(status="closed"),
                name="case_open_by_volunteer",
            ),
            # The pool: open cases nobody has.
            models.Index(
                fields=["-urgent", "created_at"],
                condition=models.Q(volunteer__isnull=True, content_destroyed_at__isnull=True)
                & ~models.Q(status="closed"),
                name="case_pool_listing",
            ),
            # Every case whose content still exists: the coordinators' list.
            models.Index(
                fields=["-urgent", "created_at"],
                condition=models.Q(content_destroyed_at__isnull=True),
                name="case_live_listing",
            ),
            # The desk health report: a period's cases with all it reads of them, so
            # PostgreSQL answers from the index alone (SQLite ignores INCLUDE).
            models.Index(
                fields=["created_at"],
                include=["id", "need", "languages", "first_response_at", "closed_at"],
                name="case_reports",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs) -> None:
        # Every new case gets its own data key before its content is sealed with it
        # (submit_concern makes it beforehand, so that a refused insert loses none).
        if self._state.adding and self.key_id is None and self.content_destroyed_at is None:
            self.key_id = new_data_key()
        super().save(*args, **kwargs)
        if changes_figures(kwargs.get("update_fields"), CASE_FIGURES):
            RollupChange.objects.mark(self.created_at, self.escalated_at)

    @property
    def under_duress(self) -> bool:
        """The person opened their inbox with their second code: someone may be forcing
        them. The desk makes no contact outside the inbox."""
        return self.duress_at is not None

    @property
    def key_exists(self) -> bool:
        """Whether the key store still holds this case's data key: whether anything, this
        database or any copy of it, could still read the case."""
        return data_key_exists(self.key_id)

    @property
    def content_destroyed(self) -> bool:
        return self.content_destroyed_at is not None

    @property
    def is_closed(self) -> bool:
        return self.status == Case.Status.CLOSED

    @property
    def in_pool(self) -> bool:
        """Open, with its content, and held by nobody."""
        return self.volunteer_id is None and not self.is_closed and not self.content_destroyed

    # -- What may happen to this case: one answer for views, templates and tests -----

    def refusal(self, action: str, user) -> CaseRefused | None:
        """Why `user` may not take `action` (an AccessLogEntry.Action) on this case now,
        or None if they may. The state decides first (409), then the role (403):

        - destroyed content: nothing that writes; closed: only reopening;
        - in the pool: only taking it (a qualified volunteer or a coordinator) or handing
          it to someone (a coordinator);
        - held by someone: its volunteer or a coordinator work on it; only a
          coordinator hands it over or returns it to the pool;
        - a partner's answer to a referral (`user` None: it comes through the partner's
          link) is taken whatever the case's state, closed included: the partner cannot
          know the case was closed, and what it says is still news to the desk. It
          changes the referral, never the case (helpdesk/partners.py);
        - revoking a partner's link: its volunteer or a coordinator, in any state, so
          that access can always be taken back.
        Who may see the case at all is access.case_for's question, asked before this."""
        A = AccessLogEntry.Action
        coordinator = bool(getattr(user, "is_coordinator", False))
        if self.content_destroyed:
            return CaseRefused(_("The content of this case was destroyed: nothing can be added."))
        if action == A.PARTNER:
            return None
        if action == A.REVOKE:
            if coordinator or (self.volunteer_id is not None and self.volunteer_id == user.pk):
                return None
            return CaseRefused(
                _("Only its volunteer or a coordinator can revoke a partner's link."), status=403
            )
        if self.is_closed:
            if action != A.REOPEN:
                return CaseRefused(_("This case is closed. Reopen it first."))
            if not (coordinator or self.volunteer_id == user.pk):
                return CaseRefused(
                    _("Only its volunteer or a coordinator can reopen a case."), status=403
                )
            return None
        if action == A.REOPEN:
            return CaseRefused(_("This case is not closed."))
        if self.volunteer_id is None:
            if action == A.CLAIM:
                return None
            if action == A.ASSIGN:
                return (
                    None
                    if coordinator
                    else CaseRefused(_("Only a coordinator can hand over a case."), status=403)
                )
            return CaseRefused(_("This case is in the pool. Take it first."))
        if action == A.CLAIM:
            return CaseRefused(_("Someone else has taken this case already."))
        if action in (A.ASSIGN, A.RELEASE):
            return (
                None
                if coordinator
                else CaseRefused(_("Only a coordinator can hand over a case."), status=403)
            )
        if action in (A.REPLY, A.NOTE, A.SHARE, A.STATUS, A.REFERRAL):
            if coordinator or self.volunteer_id == user.pk:
                return None
            return CaseRefused(_("This case is held by another volunteer."), status=403)
        return CaseRefused(_("This cannot be done to a case."), status=403)

    def allows(self, action: str, user) -> bool:
        return self.refusal(action, user) is None

    def require(self, action: str, user) -> None:
        refusal = self.refusal(action, user)
        if refusal is not None:
            raise refusal

    def locked(self) -> Case:
        """This case's row, locked until the transaction ends, read afresh: its state
        is then checked and changed by one transaction at a time."""
        return Case.objects.select_for_update().get(pk=self.pk)

    # -- Who holds it ---------------------------------------------------------------

    def handover_gaps(self, user) -> list[str]:
        """Why routing would not give this case to `user` (routing.gaps): missing
        language or need, full, paused, deactivated. Empty: a fitting hand-over."""
        profile = VolunteerProfile.objects.prefetch_related("languages", "needs").get(user=user)
        candidate = profile.as_candidate(open_cases=Case.objects.held_by(user).count())
        facts = routing.CaseFacts(need=self.need.slug, languages=tuple(self.languages))
        return routing.gaps(facts, candidate, today=timezone.localdate())

    def _hand_to(self, user, *, end_reason: str) -> Assignment:
        now = timezone.now()
        Assignment.objects.filter(case=self, ended_at__isnull=True).update(
            ended_at=now, end_reason=end_reason
        )
        assignment = Assignment.objects.create(case=self, volunteer=user, assigned_at=now)
        self.volunteer = user
        self.needs_routing = False
        # If it ever returns to the pool, coordinators are told again.
        self.pool_notified_at = None
        self.save(update_fields=["volunteer", "needs_routing", "pool_notified_at"])
        return assignment

    def claim(self, *, by) -> None:
        """A volunteer takes a pool case: refused if someone was faster or they are full."""
        with transaction.atomic():
            # The profile first, then the case: the order routing locks them in.
            profile = VolunteerProfile.objects.select_for_update().get(user=by)
            case = self.locked()
            case.require(AccessLogEntry.Action.CLAIM, by)
            if Case.objects.held_by(by).count() >= profile.capacity:
                raise CaseRefused(_("You are at your capacity. Close or hand over a case first."))
            assignment = case._hand_to(by, end_reason="")
            assignment.opened_at = assignment.assigned_at
            assignment.save(update_fields=["opened_at"])
            AccessLogEntry.objects.record(case, by, AccessLogEntry.Action.CLAIM)
        self.refresh_from_db()

    def assign_to(self, user, *, by, reason: str = "") -> Assignment:
        """A coordinator hands the case to `user`. A hand-over routing would not make
        (handover_gaps) needs a reason, kept in the case's notes; the access log says
        the rules were overridden. The new volunteer is told after commit."""
        with transaction.atomic():
            case = self.locked()
            case.require(AccessLogEntry.Action.ASSIGN, by)
            missing = case.handover_gaps(user)
            if missing and not reason.strip():
                raise CaseRefused(_("This volunteer does not fit the case: give a reason."))
            assignment = case._hand_to(user, end_reason="reassigned")
            action = AccessLogEntry.Action.OVERRIDE if missing else AccessLogEntry.Action.ASSIGN
            AccessLogEntry.objects.record(case, by, action)
            if missing:
                Note.objects.create(
                    case=case,
                    author=by,
                    body=_("Handed to %(person)s although: %(missing)s. Reason: %(reason)s")
                    % {
                        "person": user,
                        "missing": ", ".join(str(GAP_LABELS[gap]) for gap in missing),
                        "reason": reason.strip(),
                    },
                )
            queue.after_commit("notify_assignment", assignment.pk)
        self.refresh_from_db()
        return assignment

    def release(self, *, by) -> None:
        """A coordinator returns the case to the pool; routing offers it again."""
        with transaction.atomic():
            case = self.locked()
            case.require(AccessLogEntry.Action.RELEASE, by)
            Assignment.objects.filter(case=case, ended_at__isnull=True).update(
                ended_at=timezone.now(), end_reason="returned to the pool"
            )
            case.volunteer = None
            case.save(update_fields=["volunteer"])
            AccessLogEntry.objects.record(case, by, AccessLogEntry.Action.RELEASE)
            queue.after_commit("drain_pool")
        self.refresh_from_db()

    def mark_opened(self, *, by) -> None:
        """Its volunteer opened the case: it will not return to the pool unread."""
        Assignment.objects.filter(
            case=self, volunteer=by, ended_at__isnull=True, opened_at__isnull=True
        ).update(opened_at=timezone.now())

    # -- Its state --------------------------------------------------------------------

    def set_status(self, status: str, *, by, reason: str = "") -> None:
        """Move between the open states, or close (with a reason). Closing frees a place:
        the pool may have a case for it."""
        if status == Case.Status.CLOSED:
            return self.close(reason, by=by)
        with transaction.atomic():
            case = self.locked()
            case.require(AccessLogEntry.Action.STATUS, by)
            case.status = status
            case.save(update_fields=["status"])
            AccessLogEntry.objects.record(case, by, AccessLogEntry.Action.STATUS)
        self.refresh_from_db()

    def close(self, reason: str, *, by) -> None:
        if reason not in CloseReason.values:
            raise CaseRefused(_("Closing a case needs a reason."), status=400)
        with transaction.atomic():
            case = self.locked()
            case.require(AccessLogEntry.Action.STATUS, by)
            case.status = Case.Status.CLOSED
            case.closed_at, case.close_reason = timezone.now(), reason
            case.save(update_fields=["status", "closed_at", "close_reason"])
            AccessLogEntry.objects.record(case, by, AccessLogEntry.Action.STATUS)
            queue.after_commit("drain_pool")
        self.refresh_from_db()

    def reopen(self, *, by) -> None:
        with transaction.atomic():
            case = self.locked()
            case.require(AccessLogEntry.Action.REOPEN, by)
            case.status = Case.Status.IN_PROGRESS
            case.closed_at, case.close_reason = None, ""
            case.save(update_fields=["status", "closed_at", "close_reason"])
            AccessLogEntry.objects.record(case, by, AccessLogEntry.Action.REOPEN)
        self.refresh_from_db()

    # -- What is written on it ----------------------------------------------------------

    def reply(self, body: str, *, by, kind: str = "text", language: str = "") -> Message:
        """A volunteer's answer, shown in the person's inbox."""
        with transaction.atomic():
            case = self.locked()
            case.require(AccessLogEntry.Action.REPLY, by)
            message = case._staff_message(body, by=by, kind=kind, language=language)
            AccessLogEntry.objects.record(case, by, AccessLogEntry.Action.REPLY)
        self.refresh_from_db()
        return message

    def share_guidance(self, *, by, title: str, text: str, language: str) -> Message:
        """Put a piece of guidance, already in the person's language, into their inbox,
        as it reads now (a later edit of the library does not change what they got)."""
        with transaction.atomic():
            case = self.locked()
            case.require(AccessLogEntry.Action.SHARE, by)
            message = case._staff_message(
                f"# {title}\n\n{text}", by=by, kind=Message.Kind.GUIDANCE, language=language
            )
            AccessLogEntry.objects.record(case, by, AccessLogEntry.Action.SHARE)
        self.refresh_from_db()
        return message

    def tell(self, text: str, *, by) -> Message:
        """A short message from the desk about a referral (referrals.tell_the_person)."""
        with transaction.atomic():
            case = self.locked()
            case.require(AccessLogEntry.Action.REFERRAL, by)
            message = case._staff_message(text, by=by)
        self.refresh_from_db()
        return message

    def _staff_message(self, body: str, *, by, kind: str = "text", language: str = "") -> Message:
        message = Message.objects.create(
            case=self,
            author=Message.Author.STAFF,
            staff_user=by,
            body=body,
            kind=kind,
            language=language,
        )
        fields = []
        if self.first_response_at is None:
            self.first_response_at = message.created_at
            fields.append("first_response_at")
        if self.status == Case.Status.NEW:
            self.status = Case.Status.IN_PROGRESS
            fields.append("status")
        if fields:
            self.save(update_fields=fields)
        return message

    def add_note(self, body: str, *, by) -> Note:
        with transaction.atomic():
            case = self.locked()
            case.require(AccessLogEntry.Action.NOTE, by)
            note = Note.objects.create(case=case, author=by, body=body)
            AccessLogEntry.objects.record(case, by, AccessLogEntry.Action.NOTE)
        return note

    def add_submitter_message(self, body: str) -> Message:
        """The person writes again; the case's volunteer, if it has one, is told after
        commit (the task looks the volunteer up then, so a case assigned meanwhile is
        covered). A closed case or destroyed content takes no new message."""
        with transaction.atomic():
            case = self.locked()
            if case.content_destroyed or case.is_closed:
                raise CaseRefused(_("This case is closed: it takes no new messages."))
            message = Message.objects.create(case=case, author=Message.Author.SUBMITTER, body=body)
            queue.after_commit("notify_submitter_message", message.pk)
            case.submitter_seen_at = timezone.now()
            fields = ["submitter_seen_at"]
            if case.status == Case.Status.WAITING:
                case.status = Case.Status.IN_PROGRESS
                fields.append("status")
            case.save(update_fields=fields)
        self.refresh_from_db()
        return message

    def set_second_code(self, code_hash: str) -> None:
        """The person made a second code (only its keyed hash is kept); it replaces any
        earlier one."""
        with transaction.atomic():
            case = self.locked()
            if case.content_destroyed:
                raise CaseRefused(_("This case is closed: it takes no new messages."))
            case.duress_hash = code_hash
            case.save(update_fields=["duress_hash"])
        self.refresh_from_db()

    def retire_second_code(self) -> None:
        """The second code stops working, as a deleted case's receipt does (the decoy
        inbox was "deleted"). The mark for the volunteer stays."""
        Case.objects.filter(pk=self.pk).update(duress_hash=None)

    def note_submitter_visit(self, *, language: str) -> None:
        self.submitter_seen_at = timezone.now()
        self.language = language
        self.save(update_fields=["submitter_seen_at", "language"])

    def destroy_content(self, *, by_submitter: bool) -> None:
        """Destroy everything the person wrote; keep the anonymous statistics (need,
        country, languages, dates, status). The receipt stops working. Destroying twice
        changes nothing: the first destruction's date and cause stay.

        The case's data key goes first, from the key store (its own database): from that
        moment no copy of the main database, however old, can read the case. Then the
        rows are emptied here. Were that to fail, the case would stay unreadable, and
        destroying it again finishes the work."""
        with transaction.atomic():
            case = self.locked()
            if case.content_destroyed:
                return
            if case.key_id is not None:
                destroy_data_key(case.key_id)
                case.key_id = None
            # Neither loaded nor decrypted on the way out: their key is gone already.
            case.messages.only("pk").delete()
            case.notes.only("pk").delete()
            # Referrals stay for the coordinators' review, without any of their text.
            case.referrals.update(subject="", body="", outcome_note="")
            ReferralEvent.objects.filter(referral__case=case).update(note="")
            # Partners' links stop working with the content (PartnerLink.is_usable).
            now = timezone.now()
            case.description = ""
            case.contact_details = case.contact_safe_times = case.contact_code_word = ""
            case.contact_channel = Case.Channel.NONE
            case.receipt_hash = "destroyed:" + secrets.token_hex(20)
            case.duress_hash, case.duress_at = None, None
            case.submission_key = None
            case.content_destroyed_at = now
            case.destroyed_by_submitter = by_submitter
            case.needs_routing = False
            if not case.is_closed:
                case.status = Case.Status.CLOSED
                case.closed_at = now
                case.close_reason = CloseReason.DELETED if by_submitter else CloseReason.RETENTION
                if case.volunteer_id:
                    queue.after_commit("drain_pool")  # a place freed up
            case.save()
        self.refresh_from_db()


# How a hand-over warning names what is missing (routing.gaps).
GAP_LABELS = {
    routing.INACTIVE: _("the account is deactivated"),
    routing.PAUSED: _("paused"),
    routing.NEED: _("not trained for this need"),
    routing.LANGUAGE: _("speaks none of the person's languages"),
    routing.FULL: _("at capacity"),
}


class Assignment(models.Model):
    """Who held a case, from when to when: the history behind `Case.volunteer`."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    volunteer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    assigned_at = models.DateTimeField(default=timezone.now, db_index=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=40, blank=True)
    # Claimed by the notice's task when it sends the email, so a task delivered twice
    # sends once, and the sweep can queue again a notice lost with the broker.
    notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-assigned_at"]
        # A case's first assignment (the desk health's wait for a volunteer) from the
        # index alone.
        indexes = [models.Index(fields=["case", "assigned_at"], name="assignment_first")]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(ended_at__isnull=True),
                name="one_current_assignment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} → {self.volunteer}"


class Message(models.Model):
    """The conversation between the submitter and the desk, seen by both."""

    class Author(models.TextChoices):
        SUBMITTER = "submitter", _("Submitter")
        STAFF = "staff", _("Volunteer")

    class Kind(models.TextChoices):
        TEXT = "text", _("Message")
        # A piece of the library, shared as it read then: Markdown, rendered like the
        # guide (resources/rendering.py), in `language`.
        GUIDANCE = "guidance", _("Shared guidance")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=10, choices=Author.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    language = models.CharField(_("language of shared guidance"), max_length=12, blank=True)
    staff_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = CaseEncryptedTextField(_("message"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The volunteer's notice of a submitter's message, claimed when sent (sent once).
    notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.case} {self.author} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_guidance(self) -> bool:
        return self.kind == Message.Kind.GUIDANCE

    @property
    def guidance_html(self) -> SafeString:
        """Shared guidance as the guide shows it: sanitised HTML, links with their
        addresses. Never used for what a person or a volunteer typed."""
        return render_markdown(self.body)

    @property
    def direction(self) -> str:
        return "rtl" if self.language and get_language_info(self.language)["bidi"] else "ltr"


class Note(models.Model):
    """Internal notes on a case: staff only, never shown to the submitter."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    body = CaseEncryptedTextField(_("note"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return f"{self.case} note {self.created_at:%Y-%m-%d %H:%M}"


# A person reading a case for a while (and coming back to it after each thing they do
# there) is one "viewed" entry, not one per page load.
VIEW_LOGGED_ONCE_PER = timedelta(minutes=15)


class AccessLogQuerySet(models.QuerySet):
    def record(self, case: Case, user, action: str) -> AccessLogEntry:
        return self.create(case=case, user=user, action=action)

    def record_view(self, case: Case, user) -> None:
        """A view, unless this person viewed or changed the case in the last 15 minutes:
        one entry per meaningful action, not one per redirect."""
        since = timezone.now() - VIEW_LOGGED_ONCE_PER
        if not self.filter(case=case, user=user, at__gte=since).exists():
            self.record(case, user, AccessLogEntry.Action.VIEW)

    def matching(
        self, *, person=None, case: str = "", action: str = "", start=None, end=None
    ) -> AccessLogQuerySet:
        """Entries by this person, on the case with this reference, of this action,
        between these days (included); any that is empty does not narrow. Newest first."""
        entries = self.select_related("user", "case").order_by("-at", "-pk")
        if person:
            entries = entries.filter(user=person)
        if case:
            entries = entries.filter(case__reference=case)
        if action:
            entries = entries.filter(action=action)
        if start:
            entries = entries.filter(at__date__gte=start)
        if end:
            entries = entries.filter(at__date__lte=end)
        return entries


class AccessLogEntry(models.Model):
    """Who looked at or changed which case, when. Never any content. Its actions are
    also the vocabulary of what may happen to a case (Case.refusal)."""

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        REPLY = "reply", _("Replied")
        NOTE = "note", _("Added a note")
        STATUS = "status", _("Changed the status")
        CLAIM = "claim", _("Claimed from the pool")
        ASSIGN = "assign", _("Reassigned")
        SHARE = "share", _("Shared guidance")
        RELEASE = "release", _("Returned to the pool")
        REFERRAL = "referral", _("Changed a referral")
        DESTROY = "destroy", _("Destroyed the content")
        REOPEN = "reopen", _("Reopened")
        OVERRIDE = "override", _("Handed over against the routing rules")
        PARTNER = "partner", _("A partner organisation answered a referral")
        REVOKE = "revoke", _("Revoked a partner's link")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="access_log")
    user = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.case}"


class ReferralQuerySet(models.QuerySet):
    def through_haven(self) -> ReferralQuerySet:
        return self.exclude(partner_address="")

    def awaiting_partner(self) -> ReferralQuerySet:
        """Sent through Haven and not answered yet: the partner may need a reminder, the
        desk a notice that it stalled (Referral.partner_overdue decides, per partner)."""
        return self.through_haven().filter(
            status=Referral.Status.SENT, case__content_destroyed_at__isnull=True
        )

    def with_history(self) -> ReferralQuerySet:
        """With what the case page shows of each: its organisation, its events and who
        recorded them, and its partner's links with their openings counted."""
        links = PartnerLink.objects.annotate(
            opened=Count("openings"), last_opened=models.Max("openings__at")
        )
        return self.select_related("organisation").prefetch_related(
            models.Prefetch("events", queryset=ReferralEvent.objects.select_related("by")),
            models.Prefetch("partner_links", queryset=links),
        )

    def answered_by_partner(self) -> ReferralQuerySet:
        """Referrals whose partner recorded at least one answer itself (the review's
        "confirmed at the source")."""
        return self.filter(
            Exists(ReferralEvent.objects.filter(referral=models.OuterRef("pk"), by_partner=True))
        )


class Referral(models.Model):
    """A promise to a person that another organisation will help: from the template to
    the outcome. Text is encrypted and follows the case's retention; the facts behind
    the coordinators' review (organisation, status, timestamps) stay, anonymous."""

    class Status(models.TextChoices):
        DRAFTED = "drafted", _("Drafted")
        SENT = "sent", _("Sent")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        NO_RESPONSE = "no_response", _("No response")
        COMPLETED = "completed", _("Completed")

    class FailureReason(models.TextChoices):
        NO_CAPACITY = "no_capacity", _("The organisation had no capacity")
        CRITERIA = "criteria", _("Criteria not met")
        OUT_OF_MANDATE = "out_of_mandate", _("Outside the organisation's mandate")
        NOT_COVERED = "not_covered", _("The organisation does not cover the country")
        UNREACHABLE = "unreachable", _("Could not be reached")
        WITHDREW = "withdrew", _("The person withdrew")
        OTHER = "other", _("Other")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    organisation = models.ForeignKey(
        "resources.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    template = models.ForeignKey(
        "resources.ReferralTemplate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    language = models.CharField(_("language of the message"), max_length=12, blank=True)
    subject = CaseEncryptedTextField(_("subject"), blank=True)
    body = CaseEncryptedTextField(_("message as sent"), blank=True)
    consent_at = models.DateTimeField(_("consent recorded"), null=True, blank=True)
    consent_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=14, choices=Status.choices, default=Status.DRAFTED, db_index=True
    )
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    first_answer_at = models.DateTimeField(null=True, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(
        _("why it did not succeed"), max_length=14, choices=FailureReason.choices, blank=True
    )
    outcome_note = CaseEncryptedTextField(_("outcome note"), blank=True)
    follow_up_on = models.DateField(_("follow up on"), null=True, blank=True, db_index=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    # The volunteer's reminder, claimed when sent (sent once; cleared with reminded_at).
    follow_up_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Sent through Haven (helpdesk/partners.py): where the partner's link was mailed.
    partner_address = models.EmailField(_("sent through Haven to"), blank=True)
    # The partner's one reminder, and the stall notice to the desk: each claimed when
    # sent, so each goes once.
    partner_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    stall_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        # The referral review: a period's referrals with all it reads of them.
        indexes = [
            models.Index(
                fields=["created_at"],
                include=[
                    "organisation",
                    "status",
                    "sent_at",
                    "first_answer_at",
                    "outcome_at",
                    "follow_up_on",
                ],
                name="referral_reports",
            )
        ]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")

    def __str__(self) -> str:
        return f"{self.case} → {self.organisation_id} ({self.status})"

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        if changes_figures(kwargs.get("update_fields"), REFERRAL_FIGURES):
            RollupChange.objects.mark(self.created_at)

    @property
    def through_haven(self) -> bool:
        return bool(self.partner_address)

    def partner_language(self) -> str:
        """The language Haven writes to the partner in, and its page opens in: the
        message's own language when the organisation works in it, else English when it
        does, else the first of its languages the desk offers, else English."""
        offered = [code for code, _name in settings.LANGUAGES]
        theirs = {language.code for language in self.organisation.languages.all()}
        for code in (self.language, settings.LANGUAGE_CODE, *offered):
            if code in offered and code in theirs:
                return code
        return settings.LANGUAGE_CODE

    def answer_days(self) -> int:
        """The days within which the partner said it answers (the desk's default when it
        said nothing)."""
        return self.organisation.answer_days or settings.PARTNER_ANSWER_DAYS

    def awaits_partner(self) -> bool:
        """Sent through Haven, and the partner has not answered yet."""
        return self.through_haven and self.status == Referral.Status.SENT

    def partner_overdue(self, now=None, *, times: int = 1) -> bool:
        """Still unanswered by the partner `times` its stated days after sending."""
        now = now or timezone.now()
        days = timedelta(days=self.answer_days() * times)
        return self.awaits_partner() and self.sent_at is not None and self.sent_at + days < now

    def is_stalled(self, now=None) -> bool:
        """Unanswered past twice the partner's stated time: the desk should chase it."""
        return self.partner_overdue(now, times=2)

    def partner_access(self) -> PartnerAccess:
        """What the desk sees of the partner's links (ReferralQuerySet.with_history)."""
        links = list(self.partner_links.all())
        usable = [link for link in links if link.is_usable]
        opened = [link.last_opened for link in links if link.last_opened]
        return PartnerAccess(
            usable=bool(usable),
            expires_at=max((link.expires_at for link in usable), default=None),
            openings=sum(link.opened for link in links),
            last_opened=max(opened, default=None),
        )


@dataclass(frozen=True)
class PartnerAccess:
    usable: bool
    expires_at: datetime | None
    openings: int
    last_opened: datetime | None


# Referrals still waiting for an outcome (helpdesk/referrals.py holds the state machine).
OPEN_REFERRAL = frozenset(
    {
        Referral.Status.DRAFTED,
        Referral.Status.SENT,
        Referral.Status.ACKNOWLEDGED,
        Referral.Status.ACCEPTED,
    }
)


class ReferralEvent(models.Model):
    """Every change of a referral's status, and every message a partner sends back:
    when, by whom (a staff member, or the partner through its link)."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Status")
        MESSAGE = "message", _("Message from the partner")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.STATUS)
    # The referral's status after the event (a message leaves it as it was).
    status = models.CharField(max_length=14, choices=Referral.Status.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    # Recorded by the receiving organisation itself, through its link (never a person).
    by_partner = models.BooleanField(_("recorded by the partner"), default=False)
    # What was said with it (an outcome, a reason, a message); destroyed with the case's
    # content.
    note = CaseEncryptedTextField(_("note"), blank=True)
    # The volunteer's notice of a partner's answer, claimed when sent (sent once).
    notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            # The review: a period's answers by partners, per referral.
            models.Index(
                fields=["referral", "at"],
                condition=models.Q(by_partner=True),
                name="referral_event_by_partner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.status} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding and self.by_partner:  # the partner's own answers are counted apart
            RollupChange.objects.mark(self.referral.created_at)

    @property
    def is_message(self) -> bool:
        return self.kind == ReferralEvent.Kind.MESSAGE


def partner_link_expiry() -> timezone.datetime:
    return timezone.now() + timedelta(days=settings.PARTNER_LINK_IDLE_DAYS)


class PartnerLinkQuerySet(models.QuerySet):
    def usable(self) -> PartnerLinkQuerySet:
        """Not revoked, not expired, and the case's content still exists."""
        return self.filter(
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
            referral__case__content_destroyed_at__isnull=True,
        )


class PartnerLink(MailedLink):
    """The link a partner organisation is mailed for one referral: it opens that
    referral's page (intake's partner page) and nothing else. It works until it has not
    been used for PARTNER_LINK_IDLE_DAYS, or is revoked, or the case's content is
    destroyed. Every opening is recorded, with its time only."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="partner_links")
    expires_at = models.DateTimeField(_("expires"), default=partner_link_expiry)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = PartnerLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("partner link")
        verbose_name_plural = _("partner links")

    def __str__(self) -> str:
        return f"link for referral {self.referral_id}"

    @property
    def is_usable(self) -> bool:
        return (
            self.revoked_at is None
            and self.expires_at > timezone.now()
            and not self.referral.case.content_destroyed
        )


class PartnerLinkOpening(models.Model):
    """A partner opened its link: when, and nothing else (no address, no browser)."""

    link = models.ForeignKey(PartnerLink, on_delete=models.CASCADE, related_name="openings")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.link_id} opened {self.at:%Y-%m-%d %H:%M}"


# The reports' daily rollups (helpdesk/rollups.py computes them; the reports read them).


# A rollup row's language or country that stands for every one (its need: None).
ROLLUP_ALL = "*"


class DailyRollup(models.Model):
    """The anonymous figures of one day (or one month: the sum of its days) for one
    need × first language × country × organisation. A row without an organisation
    counts the cases that came in (and the escalations that happened) then; a row with
    one counts the referrals drafted then to it. Besides each exact combination, rows
    with ALL in place of need (None), language or country ("*") add up every value, so
    a report under any filters reads a few hundred rows (helpdesk/rollups.py). Maps are
    sparse JSON objects; histograms map a bucket to a count, so medians come from them
    within a stated bound."""

    class Span(models.TextChoices):
        DAY = "day", _("day")
        MONTH = "month", _("month")

    span = models.CharField(max_length=5, choices=Span.choices, default=Span.DAY)
    day = models.DateField()  # the day, or the month's first day
    # Derived rows, rebuilt from the cases (which hold the real foreign keys): no
    # constraint checked and no index kept per row, which cost a rebuild of a
    # million-case desk 10 s of its 70 (bench/results/rollups.md). Django's cascade still
    # removes the rows of a deleted need or organisation.
    need = models.ForeignKey(
        "resources.Need",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    language = models.CharField(max_length=12, blank=True)  # the person's first language
    country = models.CharField(max_length=2, blank=True)
    organisation = models.ForeignKey(
        "resources.Organisation",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    cases = models.PositiveIntegerField(default=0)
    escalations = models.PositiveIntegerField(default=0)
    referrals = models.PositiveIntegerField(default=0)
    # Referrals whose outcome the partner recorded itself, through its link.
    partner_confirmed = models.PositiveIntegerField(default=0)
    # Current status → count (of the cases, or of the referrals).
    statuses = models.JSONField(default=dict)
    # Declined referrals: reason → count.
    declines = models.JSONField(default=dict)
    # Open referrals with a follow-up date: that date (ISO) → count.
    follow_ups = models.JSONField(default=dict)
    # Sent referrals without any answer yet: the day they were sent (ISO) → count.
    unanswered = models.JSONField(default=dict)
    # Cases still waiting for a volunteer: the minute they came in (epoch) → count.
    waiting = models.JSONField(default=dict)
    # Name → {bucket: count}: the cases' "to_volunteer", "to_first_answer" and "waited";
    # the referrals' "to_answer", "to_outcome" and "to_partner_answer".
    histograms = models.JSONField(default=dict)

    class Meta:
        indexes = [
            # A refresh: the rows of some days, and of their months.
            models.Index(fields=["span", "day"], name="daily_rollup_span_day"),
            # A report: the rows of one country (or ALL) and language (or ALL).
            models.Index(fields=["span", "country", "language", "day"], name="daily_rollup_read"),
            # Desk health: the cases' rows for every country, read from the index alone
            # (PostgreSQL): its weekly counts over two years are ~23,000 day rows spread
            # over ~9,000 pages of the table, 0.7 s from a cold disk at a million cases
            # and 0.16 s from these ~170 pages (bench/results/rollups.md).
            models.Index(
                fields=["span", "day"],
                include=["need", "language", "cases", "escalations"],
                condition=models.Q(organisation__isnull=True, country=ROLLUP_ALL),
                name="daily_rollup_cases",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.span} {self.day} {self.need_id} {self.language} {self.country}"


class RollupChangeQuerySet(models.QuerySet):
    def mark(self, *moments: datetime | None) -> None:
        """The figures of the days of these moments changed: their rollups are
        recomputed by the next refresh (rollups.refresh_changed). Appended, never
        updated, so marking never waits for a refresh."""
        days = {timezone.localdate(moment) for moment in moments if moment is not None}
        self.bulk_create([RollupChange(day=day) for day in sorted(days)])


class RollupChange(models.Model):
    """A day whose rollups are out of date (see RollupChangeQuerySet.mark); or, with
    `whole_month`, a month (its first day) whose month rows are not there, so reports
    add up its day rows instead until the beat makes them (rollups.build_months)."""

    day = models.DateField()
    whole_month = models.BooleanField(default=False)

    objects = RollupChangeQuerySet.as_manager()

    def __str__(self) -> str:
        return str(self.day)
