"""What no request may carry, refused at the edge with Haven's 400 page.

- A NUL character in the path, or on staff pages in the query string: PostgreSQL cannot
  hold or compare one (an admin list filter passed it straight to a query), and no link
  carries one. (The public pages pass no query value to the database, and their forms
  drop control characters: what a person typed is never lost to this rule.) Form
  fields refuse NUL on their own (Django's CharField).
- On staff pages, a whole number beyond 64 bits as a query or form value: no row has
  such an id, and SQLite cannot even compare one (the team page's language choices
  failed with a 500). Ids in paths are limited by the `id` path converter instead.
- A form posted in a charset other than UTF-8: Django refuses it (400), but its DEBUG
  page for the refusal reads the body again and fails with a 500; `make run` is DEBUG.
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


def not_utf8_form(request: HttpRequest) -> bool:
    """As django.http.HttpRequest._load_post_and_files decides it."""
    encoding = request.encoding
    return (
        request.method == "POST"
        and request.content_type == "application/x-www-form-urlencoded"
        and encoding is not None
        and encoding.lower() != "utf-8"
    )


def _values(query: QueryDict) -> list[str]:
    return [value for _, values in query.lists() for value in values]


class HostileInputMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            "\x00" in request.path
            or not_utf8_form(request)
            or (request.path_info.startswith(STAFF_PREFIXES) and self.hostile_staff_input(request))
        ):
            return render(request, "400.html", status=400)
        return self.get_response(request)

    @staticmethod
    def hostile_staff_input(request: HttpRequest) -> bool:
        query = _values(request.GET)
        if any("\x00" in text for text in [*request.GET.keys(), *query]):
            return True
        values = query + (_values(request.POST) if request.method == "POST" else [])
        return any(beyond_any_id(value) for value in values)
