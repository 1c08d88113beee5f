from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.encryption import EncryptedTextField
from helpdesk.roles import Role


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


class VolunteerProfile(models.Model):
    """What routing needs to know about a staff member."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    languages = models.ManyToManyField("resources.Language", verbose_name=_("languages spoken"))
    needs = models.ManyToManyField("resources.Need", verbose_name=_("needs trained for"))
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), default=5, help_text=_("Open cases at most.")
    )
    paused_until = models.DateField(_("paused until"), null=True, blank=True)

    class Meta:
        verbose_name = _("volunteer profile")
        verbose_name_plural = _("volunteer profiles")

    def __str__(self) -> str:
        return str(self.user)


def invitation_expiry() -> timezone.datetime:
    return timezone.now() + timedelta(hours=settings.INVITATION_MAX_AGE_HOURS)


class SingleUseLinkQuerySet(models.QuerySet):
    def usable(self) -> SingleUseLinkQuerySet:
        unused = {f"{self.model.USED_AT}__isnull": True}
        return self.filter(**unused, expires_at__gt=timezone.now())

    def expired(self) -> SingleUseLinkQuerySet:
        unused = {f"{self.model.USED_AT}__isnull": True}
        return self.filter(**unused, expires_at__lte=timezone.now())


class SingleUseLink(models.Model):
    """A link mailed by a coordinator: it works once and expires; only a hash of its
    token is stored. `USED_AT` names the field that records its use."""

    USED_AT = "used_at"

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
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


class CaseQuerySet(models.QuerySet):
    def open(self) -> CaseQuerySet:
        return self.exclude(status=Case.Status.CLOSED)

    def awaiting_routing(self) -> CaseQuerySet:
        return self.filter(needs_routing=True, content_destroyed_at__isnull=True)

    def with_content(self) -> CaseQuerySet:
        return self.filter(content_destroyed_at__isnull=True)

    def overdue(self, now=None) -> CaseQuerySet:
        """Open cases still without a first answer past their deadline."""
        now = now or timezone.now()
        urgent = now - timedelta(hours=settings.FIRST_RESPONSE_HOURS_URGENT)
        normal = now - timedelta(hours=settings.FIRST_RESPONSE_HOURS)
        return (
            self.open()
            .with_content()
            .filter(first_response_at__isnull=True)
            .filter(
                models.Q(urgent=True, created_at__lt=urgent)
                | models.Q(urgent=False, created_at__lt=normal)
            )
        )

    def for_listing(self) -> CaseQuerySet:
        """What a case list shows, in a fixed number of queries however long it is. A list
        shows no content: the encrypted fields are neither fetched nor decrypted."""
        latest = Message.objects.filter(case=models.OuterRef("pk")).order_by("-created_at", "-pk")
        content = ("description", "contact_details", "contact_safe_times", "contact_code_word")
        return self.select_related("need", "volunteer").defer(*content).annotate(
            last_message_at=models.Subquery(latest.values("created_at")[:1]),
            last_message_author=models.Subquery(latest.values("author")[:1]),
        )


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
    # NULL, not "", once destroyed: a unique column must hold many "no key" values.
    submission_key = models.CharField(max_length=64, unique=True, null=True, editable=False)  # noqa: DJ001
    for_whom = models.CharField(_("for whom"), max_length=8, choices=ForWhom.choices)
    need = models.ForeignKey("resources.Need", on_delete=models.PROTECT, verbose_name=_("need"))
    country = models.CharField(_("country"), max_length=2)
    languages = models.JSONField(_("languages, in order of preference"), default=list)
    language = models.CharField(_("language of the submitter's pages"), max_length=12)
    urgent = models.BooleanField(_("in danger right now"), default=False)
    description = EncryptedTextField(_("what is happening"), blank=True)
    contact_channel = models.CharField(
        _("safe contact"), max_length=8, choices=Channel.choices, default=Channel.NONE
    )
    contact_details = EncryptedTextField(_("contact details"), blank=True)
    contact_safe_times = EncryptedTextField(_("safe times"), blank=True)
    contact_code_word = EncryptedTextField(_("code word"), blank=True)
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

    @property
    def content_destroyed(self) -> bool:
        return self.content_destroyed_at is not None

    @property
    def in_pool(self) -> bool:
        return self.volunteer_id is None and self.status != Case.Status.CLOSED


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

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=10, choices=Author.choices)
    staff_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = EncryptedTextField(_("message"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The volunteer's notice of a submitter's message, claimed when sent (sent once).
    notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.case} {self.author} {self.created_at:%Y-%m-%d %H:%M}"


class Note(models.Model):
    """Internal notes on a case: staff only, never shown to the submitter."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    body = EncryptedTextField(_("note"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return f"{self.case} note {self.created_at:%Y-%m-%d %H:%M}"


class AccessLogEntry(models.Model):
    """Who looked at or changed which case, when. Never any content."""

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

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="access_log")
    user = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.case}"


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
    subject = EncryptedTextField(_("subject"), blank=True)
    body = EncryptedTextField(_("message as sent"), blank=True)
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
    outcome_note = EncryptedTextField(_("outcome note"), blank=True)
    follow_up_on = models.DateField(_("follow up on"), null=True, blank=True, db_index=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

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


class ReferralEvent(models.Model):
    """Every change of a referral's status: when, by whom."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=14, choices=Referral.Status.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.status} {self.at:%Y-%m-%d %H:%M}"
