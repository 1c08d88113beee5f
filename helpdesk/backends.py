"""Permissions for the Django admin, derived from the role (see helpdesk/roles.py)."""

from django.contrib.auth.backends import ModelBackend

from helpdesk.roles import COORDINATOR_APPS, Role, has_role
from resources.models import LEGAL_REVIEW_PERMISSION

# Permissions the role alone does not give: each is granted to the person who holds it
# (in the admin, on their staff account).
GRANTED_ONE_BY_ONE = frozenset({LEGAL_REVIEW_PERMISSION})


class RoleBackend(ModelBackend):
    """Coordinators hold every permission on Haven's apps but those granted one by one
    (the legal review); nobody else holds any beyond what is granted explicitly.
    Authentication itself is allauth's."""

    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        if (
            has_role(user_obj, Role.COORDINATOR)
            and perm.split(".", 1)[0] in COORDINATOR_APPS
            and perm not in GRANTED_ONE_BY_ONE
        ):
            return True
        return super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label: str) -> bool:
        if has_role(user_obj, Role.COORDINATOR) and app_label in COORDINATOR_APPS:
            return True
        return super().has_module_perms(user_obj, app_label)
