from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from helpdesk import views

# The admin signs in through allauth, so its login has the same rate limits and MFA.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = admin.site.site_title = "Haven"

urlpatterns = [
    path("accounts/invitation/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("accounts/", include("allauth.urls")),
    path("desk/", views.desk, name="desk"),
    path("desk/team/invite/", views.invite, name="invite_staff"),
    path("admin/", admin.site.urls),
    path("guide/", include("resources.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The project's URLconf wires in the public side by name only; no helpdesk module
    # imports intake (DESIGN.md: imports go intake -> helpdesk -> resources).
    path("", include("intake.urls")),
]

# By name, like the include above: the public side's friendly page for a request that
# is too large or malformed.
handler400 = "intake.views.bad_request"
