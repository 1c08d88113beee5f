import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from helpdesk.models import Case, User
from tests.conftest import totp_code


def test_demo_loads_staff_with_totp_and_routes_cases(transactional_db, settings, capsys):
    settings.DEBUG = True  # the embedded default; Django's test runner sets False
    call_command("load_demo")
    call_command("load_demo")  # idempotent
    assert User.objects.filter(email__endswith="@haven.test").count() == 5
    assert Case.objects.count() == 4
    routed = Case.objects.filter(volunteer__isnull=False)
    assert routed.count() >= 3  # every demo case has a volunteer for its need and language
    for case in routed:
        assert case.need in case.volunteer.profile.needs.all()
    coordinator = User.objects.get(email="coordinator@haven.test")
    call_command("demo_totp", "coordinator@haven.test")
    assert capsys.readouterr().out.strip().endswith(totp_code(coordinator))


def test_demo_data_is_refused_in_production(db, settings):
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured):
        call_command("load_demo")
    assert not User.objects.exists()
