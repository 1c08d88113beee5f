from unittest import mock

from django.db import OperationalError


def test_health_answers_for_any_host_without_redirect(client, db, settings):
    settings.ALLOWED_HOSTS = ["desk.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="10.0.0.5:8000")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Cache-Control"] == "no-store"


def test_health_reports_a_database_that_does_not_answer(client, db):
    with mock.patch("helpdesk.health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
