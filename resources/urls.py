from django.urls import path

from resources import views
from resources.models import Audience

app_name = "resources"

urlpatterns = [
    path("", views.guide, name="guide"),
    path("friend/", views.friend, name="friend"),
    path("<slug:need>/", views.need, {"audience": Audience.PERSON}, name="need"),
    path("<slug:need>/friend/", views.need, {"audience": Audience.FRIEND}, name="need_friend"),
]
