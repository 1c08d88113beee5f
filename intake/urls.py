from django.urls import path

from intake import views

app_name = "intake"

urlpatterns = [
    path("", views.start, name="start"),
    path("write/", views.write, name="write"),
    path("write/second-code/", views.second_code_after_writing, name="second_code_after_writing"),
    path("follow-up/", views.follow_up, name="follow_up"),
    path("follow-up/inbox/", views.inbox, name="inbox"),
    path("follow-up/delete/", views.delete, name="delete"),
    path("follow-up/leave/", views.leave, name="leave"),
    path("follow-up/second-code/", views.second_code, name="second_code"),
    path("your-data/", views.your_data, name="your_data"),
    # A partner organisation's page for one referral (helpdesk/partners.py). The token is
    # in the path by necessity: it is cut out of every log (helpdesk/logs.py).
    path("partner/<str:token>/", views.partner, name="partner"),
]
