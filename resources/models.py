from django.db import models
from django.utils.translation import gettext_lazy as _


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


class Need(models.Model):
    """What a person needs help with: the vocabulary cases are routed by."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("one-line description"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("need")
        verbose_name_plural = _("needs")

    def __str__(self) -> str:
        return self.name
