from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
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
        user.save(using=self._db)
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


class InvitationQuerySet(models.QuerySet):
    def usable(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())

    def expired(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, expires_at__lte=timezone.now())


def invitation_expiry() -> timezone.datetime:
    return timezone.now() + timedelta(hours=settings.INVITATION_MAX_AGE_HOURS)


class Invitation(models.Model):
    """A single-use link for a new staff member. Only a hash of its token is stored."""

    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VOLUNTEER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("invited by")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), default=invitation_expiry)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return self.email

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class EncryptionCanary(models.Model):
    """One row of known text, proving at start-up that the keys read stored data."""

    value = EncryptedTextField()

    class Meta:
        verbose_name = _("encryption canary")

    def __str__(self) -> str:
        return "encryption canary"
