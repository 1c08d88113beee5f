from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from helpdesk.models import User
from helpdesk.roles import Role


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.VOLUNTEER)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("This person already has an account."))
        return email


class AcceptInvitationForm(forms.Form):
    first_name = forms.CharField(
        label=_("First name (shown to other staff)"), max_length=150, required=False
    )
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
