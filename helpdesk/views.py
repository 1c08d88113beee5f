from __future__ import annotations

from allauth.account.utils import perform_login
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from helpdesk import invitations
from helpdesk.forms import AcceptInvitationForm, InviteForm
from helpdesk.roles import coordinator_required, staff_required


@staff_required
def desk(request: HttpRequest) -> HttpResponse:
    return render(request, "helpdesk/desk.html")


@coordinator_required
def invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitations.invite_staff(
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
            )
        except OSError:
            # SMTP failures are OSErrors; the transaction rolled back, nothing is saved.
            form.add_error(
                None,
                _(
                    "The email could not be sent, so no invitation was made. "
                    "Please try again in a few minutes."
                ),
            )
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": invitation.email}
            )
            return redirect("invite_staff")
    return render(
        request,
        "helpdesk/invite.html",
        {"form": form, "hours": settings.INVITATION_MAX_AGE_HOURS},
    )


@never_cache
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    if request.user.is_authenticated:
        raise PermissionDenied
    try:
        invitation = invitations.find_invitation(token)
    except invitations.InvitationUnusable:
        return render(request, "helpdesk/invitation_unusable.html", status=404)
    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitations.accept_invitation(
                token=token,
                password=form.cleaned_data["password1"],
                first_name=form.cleaned_data["first_name"],
            )
        except invitations.InvitationUnusable:
            return render(request, "helpdesk/invitation_unusable.html", status=404)
        return perform_login(request, user, redirect_url=reverse("mfa_activate_totp"))
    return render(
        request, "helpdesk/accept_invitation.html", {"form": form, "invitation": invitation}
    )
