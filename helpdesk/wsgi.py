import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

application = get_wsgi_application()

from helpdesk.keys import verify_key_canary  # noqa: E402  (needs Django set up)

verify_key_canary()

# gunicorn imports this module once and forks its workers from it (preload_app): a
# connection opened by the check above must not be shared by every worker.
from django.db import connections  # noqa: E402

connections.close_all()
