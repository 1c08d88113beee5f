"""What no request may carry, refused at the edge with Haven's 400 page.

- A NUL character in the path or the query string: PostgreSQL cannot hold or compare
  one (an admin list filter passed it straight to a query), and no link carries one.
  Form fields refuse NUL on their own (Django's CharField, and the public forms drop
  control characters), so a form's text is never lost to this rule.
- On staff pages, a whole number beyond 64 bits as a query or form value: no row has
  such an id, and SQLite cannot even compare one (the team page's language choices
  failed with a 500). Ids in paths are limited by the `id` path converter instead.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render

from helpdesk.headers import STAFF_PREFIXES

LARGEST_ID = 2**63 - 1


class IdConverter:
    """A database id in a path: 1 to 18 digits, always within a signed 64-bit column."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


def beyond_any_id(value: str) -> bool:
    text = value.strip()
    return text.lstrip("+-").isdigit() and len(text) > 18 and abs(int(text)) > LARGEST_ID


def _values(query: QueryDict) -> list[str]:
    return [value for _, values in query.lists() for value in values]


class HostileInputMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        texts = [request.path, *request.GET.keys(), *_values(request.GET)]
        if any("\x00" in text for text in texts):
            return render(request, "400.html", status=400)
        if request.path_info.startswith(STAFF_PREFIXES):
            values = _values(request.GET)
            if request.method == "POST":
                values += _values(request.POST)
            if any(beyond_any_id(value) for value in values):
                return render(request, "400.html", status=400)
        return self.get_response(request)
