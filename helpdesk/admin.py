from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.utils.translation import gettext_lazy as _

from helpdesk import team
from helpdesk.accounts import follow_email_change
from helpdesk.models import Invitation, User, VolunteerProfile


class StaffChangeForm(UserChangeForm):
    legal_reviewer = forms.BooleanField(
        label=_("Legal reviewer"),
        required=False,
        help_text=_("May record the legal review of guidance that states the law."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["legal_reviewer"].initial = self.instance.user_permissions.filter(
                pk=team.legal_review_permission().pk
            ).exists()


@admin.register(User)
class StaffAdmin(UserAdmin):
    form = StaffChangeForm
    ordering = ["email"]
    list_display = ["email", "first_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Person"), {"fields": ["first_name", "last_name"]}),
        (_("Access"), {"fields": ["role", "is_active", "legal_reviewer"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "role", "password1", "password2"]})
    ]
    readonly_fields = ["last_login", "date_joined"]

    def save_model(self, request, obj: User, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            if "email" in form.changed_data:
                follow_email_change(obj)
            if "legal_reviewer" in form.changed_data:
                team.set_legal_reviewer(user=obj, allowed=form.cleaned_data["legal_reviewer"])
        else:
            User.objects.save_new(obj)  # with its volunteer profile, as every account


@admin.register(VolunteerProfile)
class VolunteerProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "capacity", "paused_until"]
    filter_horizontal = ["languages", "needs"]
    list_select_related = ["user"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "role", "invited_by", "created_at", "expires_at", "accepted_at"]
    readonly_fields = ["email", "role", "invited_by", "created_at", "expires_at", "accepted_at"]

    def has_add_permission(self, request) -> bool:
        return False  # invitations are made on the desk, where the email is sent
