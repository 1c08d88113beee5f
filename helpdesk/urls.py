from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path, register_converter

from helpdesk import library_views, report_views, views
from helpdesk.edge import IdConverter

register_converter(IdConverter, "id")

# The admin signs in through allauth, so its login has the same rate limits and MFA.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = admin.site.site_title = "Haven"

urlpatterns = [
    path("accounts/invitation/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("accounts/set-up/<str:token>/", views.factor_reset, name="factor_reset"),
    path("accounts/2fa/totp/replace/", views.replace_totp, name="replace_totp"),
    # Before allauth's own page: staff do not change their sign-in address themselves.
    path("accounts/email/", views.email_address, name="account_email"),
    path("accounts/", include("allauth.urls")),
    path("desk/", views.my_cases, name="desk"),
    path("desk/pool/", views.pool, name="pool"),
    path("desk/cases/", views.all_cases, name="all_cases"),
    path("desk/cases/<str:reference>/", views.case_detail, name="case"),
    path("desk/cases/<str:reference>/reply/", views.case_reply, name="case_reply"),
    path("desk/cases/<str:reference>/note/", views.case_note, name="case_note"),
    path("desk/cases/<str:reference>/status/", views.case_status, name="case_status"),
    path("desk/cases/<str:reference>/reopen/", views.case_reopen, name="case_reopen"),
    path("desk/cases/<str:reference>/share/", views.case_share, name="case_share"),
    path("desk/cases/<str:reference>/claim/", views.case_claim, name="case_claim"),
    path("desk/cases/<str:reference>/reassign/", views.case_reassign, name="case_reassign"),
    path("desk/cases/<str:reference>/log/", views.case_log, name="case_log"),
    path("desk/cases/<str:reference>/referrals/new/", views.referral_new, name="referral_new"),
    path(
        "desk/cases/<str:reference>/referrals/<id:referral_id>/",
        views.referral_update,
        name="referral_update",
    ),
    # Reports (coordinators): helpdesk/report_views.py
    path("desk/reports/referrals/", report_views.referral_review, name="report_referrals"),
    path(
        "desk/reports/referrals.csv", report_views.referral_review_csv, name="report_referrals_csv"
    ),
    path(
        "desk/reports/referrals/cases/", report_views.referral_cases, name="report_referral_cases"
    ),
    path("desk/reports/health/", report_views.desk_health, name="report_health"),
    # The library's review (coordinators): helpdesk/library_views.py
    path("desk/library/", library_views.library_review, name="library_review"),
    path("desk/library/<slug:slug>/", library_views.library_piece, name="library_piece"),
    path("desk/access-log/", views.access_log, name="access_log"),
    path("desk/team/", views.team, name="team"),
    path("desk/team/invite/", views.invite, name="invite_staff"),
    path("desk/team/<id:user_id>/", views.team_member, name="team_member"),
    path(
        "desk/team/<id:user_id>/reset-second-factor/",
        views.reset_second_factor,
        name="reset_second_factor",
    ),
    path("desk/me/", views.my_availability, name="my_availability"),
    path("desk/me/language/", views.my_email_language, name="my_email_language"),
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
