"""System checks of Haven's own: `manage.py check --deploy` fails when the configured
FIELD_ENCRYPTION_KEY cannot read the data already stored (the web and the workers
refuse to start then, too)."""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from helpdesk.keys import read_key_canary


@checks.register("encryption", deploy=True)
def check_encryption_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    try:
        read_key_canary()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="helpdesk.E001")]
    return []
