from django.urls import path

from intake import views

app_name = "intake"

urlpatterns = [
    path("", views.start, name="start"),
    path("write/", views.write, name="write"),
    path("follow-up/", views.follow_up, name="follow_up"),
    path("follow-up/inbox/", views.inbox, name="inbox"),
    path("follow-up/delete/", views.delete, name="delete"),
    path("follow-up/leave/", views.leave, name="leave"),
]
