"""Staff roles: the one mechanism that says who may do what.

Every staff account has exactly one role. Views check it with `staff_required` or
`coordinator_required`; the Django admin asks `helpdesk.backends.RoleBackend`, which
grants coordinators the permissions of Haven's own apps and volunteers none.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _

# Apps whose objects coordinators manage in the admin.
COORDINATOR_APPS = frozenset({"helpdesk", "resources", "intake"})


class Role(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer")
    COORDINATOR = "coordinator", _("Coordinator")


def has_role(user, *roles: Role) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in roles)


def role_required(*roles: Role) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


staff_required = role_required(Role.VOLUNTEER, Role.COORDINATOR)
coordinator_required = role_required(Role.COORDINATOR)
