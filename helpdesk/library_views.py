"""The coordinators' review of the library: what is due, each piece beside its
translations and its sources, and one click to record a review. The rules (what is
due, what a review changes, who may record a legal review) are Guidance's own."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from helpdesk.forms import ReviewForm
from helpdesk.roles import coordinator_required
from resources.models import LEGAL_REVIEW_PERMISSION, Guidance
from resources.rendering import render_markdown


@dataclass(frozen=True)
class DueRow:
    piece: Guidance
    needs: list[str]
    out_of_date: list[str]


@coordinator_required
def library_review(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    pieces = Guidance.objects.with_reviews().order_by("review_by", "slug")
    rows = [DueRow(p, p.review_needs(today), p.out_of_date_languages()) for p in pieces]
    return render(
        request,
        "helpdesk/library_review.html",
        {
            "due": [row for row in rows if row.needs],
            "current": [row for row in rows if not row.needs],
            "today": today,
        },
    )


@coordinator_required
def library_piece(request: HttpRequest, slug: str) -> HttpResponse:
    piece = get_object_or_404(Guidance.objects.with_reviews(), slug=slug)
    source = piece.source_translation()
    others = [t for t in piece.translations.all() if t != source]
    shown = next((t for t in others if t.language_id == request.GET.get("language")), None)
    out_of_date = piece.out_of_date_languages()
    if shown is None:
        shown = next((t for t in others if t.language_id in out_of_date), None) or next(
            iter(others), None
        )
    legal_allowed = piece.legal and request.user.has_perm(LEGAL_REVIEW_PERMISSION)
    form = ReviewForm(
        request.POST or None,
        languages=[(t.language_id, t.language.native_name) for t in others],
        legal_allowed=legal_allowed,
        initial={"languages": [shown.language_id] if shown else []},
    )
    if request.method == "POST" and form.is_valid():
        # A legal review without the permission raises PermissionDenied (403): the
        # box is not offered, and the model refuses it all the same.
        piece.record_review(
            by=request.user,
            note=form.cleaned_data["note"],
            legal=form.cleaned_data.get("legal", False),
            languages=form.cleaned_data["languages"],
        )
        messages.success(
            request,
            _("Review recorded. The next one is due on %(day)s.")
            % {"day": date_format(piece.review_by, "DATE_FORMAT")},
        )
        return redirect("library_piece", piece.slug)
    return render(
        request,
        "helpdesk/library_piece.html",
        {
            "piece": piece,
            "source": source,
            "source_html": render_markdown(source.body) if source else "",
            "others": others,
            "shown": shown,
            "shown_html": render_markdown(shown.body) if shown else "",
            "out_of_date": out_of_date,
            "needs": piece.review_needs(),
            "form": form,
            "legal_allowed": legal_allowed,
        },
        status=400 if form.errors else 200,
    )
