import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

application = get_asgi_application()

from helpdesk.keys import verify_key_canary  # noqa: E402  (needs Django set up)

verify_key_canary()
