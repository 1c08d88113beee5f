import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

application = get_wsgi_application()

from helpdesk.encryption import verify_key_canary  # noqa: E402  (needs Django set up)

verify_key_canary()
