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
    path("i18n/", include("django.conf.urls.i18n")),
]
