"""The coordinators' reports: the referral review (with its CSV and drill-down to the
cases behind a number) and the desk's health. The figures come from helpdesk/reports.py;
these views only read the filters, call it and draw."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from helpdesk import reports, rollups
from helpdesk.charts import bar_chart, column_chart
from helpdesk.models import Referral
from helpdesk.roles import coordinator_required
from helpdesk.spreadsheets import csv_number, csv_text
from helpdesk.views import case_list_context
from resources.models import Language, Need, Organisation

DEFAULT_DAYS = 90
TWO_YEARS = 730
# The figures are read from the daily rollups (helpdesk/rollups.py), which every change
# brings up to date. A report's figures are kept in the shared cache under the rollups'
# version, so they are computed again as soon as anything changed: under load the two-
# year views cost several times the target without it (bench/results/rollups.md). Only
# the waits of cases still waiting grow with the clock: they may be a minute old.
FRESH_SECONDS = 60
LONGEST_PERIOD = timedelta(days=3 * 366)  # a bound on the work one request can ask for
FILTERS = ("organisation", "need", "country", "language")


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To (inclusive)"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, query, *args, **kwargs) -> None:
        # An empty date means the default period: the last DEFAULT_DAYS days.
        data = query.copy()
        today = timezone.localdate()
        if not data.get("end"):
            data["end"] = today.isoformat()
        if not data.get("start"):
            data["start"] = (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
        super().__init__(data, *args, **kwargs)

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The end of the period is before its start."))
            elif end - start > LONGEST_PERIOD:
                self.add_error("start", _("Choose a period of three years at most."))
        return cleaned

    def query_values(self) -> dict[str, str]:
        data = self.cleaned_data
        return {"start": data["start"].isoformat(), "end": data["end"].isoformat()}

    def query(self, *, without: tuple[str, ...] = ()) -> str:
        """The filters as a query string, for links to the CSV and the drill-down."""
        values = self.query_values()
        return urlencode({k: v for k, v in values.items() if v and k not in without})


class ReferralFilterForm(PeriodForm):
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("Organisation"),
        queryset=Organisation.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label=gettext_lazy("Any"),
    )
    need = forms.ModelChoiceField(
        label=gettext_lazy("Need"),
        queryset=Need.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label=gettext_lazy("Any"),
    )
    country = forms.CharField(
        label=gettext_lazy("Country code"),
        max_length=2,
        required=False,
        help_text=gettext_lazy("Two letters, e.g. SY"),
    )
    language = forms.ModelChoiceField(
        label=gettext_lazy("Preferred language"),
        queryset=Language.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("Any"),
    )

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
            raise forms.ValidationError(_("Use a two-letter country code, e.g. SY."))
        return country

    def filters(self) -> dict:
        return {name: self.cleaned_data[name] or None for name in FILTERS}

    def query_values(self) -> dict[str, str]:
        data = self.cleaned_data
        return {
            **super().query_values(),
            "organisation": data["organisation"].slug if data["organisation"] else "",
            "need": data["need"].slug if data["need"] else "",
            "country": data["country"],
            "language": data["language"].code if data["language"] else "",
        }


class DrillDownForm(ReferralFilterForm):
    status = forms.ChoiceField(
        label=gettext_lazy("Referral status"),
        choices=[
            ("", gettext_lazy("Any")),
            *Referral.Status.choices,
            ("overdue", gettext_lazy("Follow-up overdue")),
            ("unanswered", gettext_lazy("Sent long ago, no answer")),
        ],
        required=False,
    )


def report_key(name: str, form: PeriodForm) -> str:
    """What a report's figures are kept under: the rollups' version (brought up to date
    first), the day (what is overdue changes at midnight) and the filters."""
    rollups.refresh_changed(wait=False, most=rollups.live_days())
    today = timezone.localdate().isoformat()
    return f"reports:3:{name}:{rollups.version()}:{today}:{form.query()}"


def figures_for(name: str, form: PeriodForm, key: str | None = None) -> Any:
    """A report's figures for these filters, computed once per version of the rollups.
    Nothing waits for another request: two that miss at once both compute."""
    key = key or report_key(name, form)
    figures = cache.get(key)
    if figures is None:
        figures = REPORTS[name][1](form)
        cache.set(key, figures, FRESH_SECONDS)
    return figures


def review_figures(form: ReferralFilterForm) -> reports.ReferralReview:
    data = form.cleaned_data
    return reports.referral_review(start=data["start"], end=data["end"], **form.filters())


def health_figures(form: PeriodForm) -> reports.DeskHealth:
    return reports.desk_health(start=form.cleaned_data["start"], end=form.cleaned_data["end"])


# Each report: the form that reads its filters and the function that computes it.
REPORTS: dict[str, tuple[type[PeriodForm], Callable[[Any], Any]]] = {
    "referrals": (ReferralFilterForm, review_figures),
    "health": (PeriodForm, health_figures),
}


def two_years_start() -> date:
    return timezone.localdate() - timedelta(days=TWO_YEARS - 1)


def drawn_body(name: str, form: PeriodForm, context: dict, *, open_filters: bool) -> str:
    """The report below the page's header. The form is drawn from the cleaned filters."""
    context = {
        **context,
        "form": REPORTS[name][0](QueryDict(form.query())),
        "open_filters": open_filters,
        "two_years_start": two_years_start(),
        "median_error": reports.median_error_percent(),
    }
    return render_to_string(f"helpdesk/reports/_{name}_body.html", context)


def refused_body(name: str, form: PeriodForm) -> str:
    """The form with its errors, and no figures."""
    return render_to_string(
        f"helpdesk/reports/_{name}_body.html",
        {"form": form, "open_filters": True, "two_years_start": two_years_start()},
    )


def days(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def report_page(request: HttpRequest, name: str, form, *, figures: str, draw) -> HttpResponse:
    """A report's page: refused filters with their errors, else the figures and their
    drawn body, each kept under the rollups' version like the figures: drawing the
    two-year tables costs more than computing them (bench/results/rollups.md). The body
    holds nothing of the coordinator (the filters are a GET form, without a token)."""
    template = f"helpdesk/reports/{name}.html"
    if not form.is_valid():
        context = {"form": form, "body": refused_body(name, form)}
        return render(request, template, context, status=400)
    key = report_key(name, form)
    computed = figures_for(name, form, key)
    open_filters = bool(request.GET)
    body_key = f"{key}:body:{translation.get_language()}:{int(open_filters)}"
    body = cache.get(body_key)
    if body is None:
        body = drawn_body(name, form, draw(computed), open_filters=open_filters)
        cache.set(body_key, body, FRESH_SECONDS)
    return render(request, template, {"form": form, figures: computed, "body": body})


@coordinator_required
@require_GET
def referral_review(request: HttpRequest) -> HttpResponse:
    form = ReferralFilterForm(request.GET)
    return report_page(
        request, "referrals", form, figures="review", draw=lambda f: review_context(form, f)
    )


def review_context(form: ReferralFilterForm, review: reports.ReferralReview) -> dict:
    stalled = {figures.name for figures in review.stalled}
    charts = {
        "acceptance": bar_chart(
            chart_id="chart-acceptance",
            title=_("Acceptance rate per organisation"),
            description=_(
                "Accepted or completed referrals as a share of those with an outcome. "
                "The table below gives the same numbers."
            ),
            bars=[
                (
                    figures.name,
                    None if figures.acceptance_rate is None else 100 * figures.acceptance_rate,
                )
                for figures in review.organisations
            ],
            unit="%",
            flagged=stalled,
        ),
        "first_answer": bar_chart(
            chart_id="chart-first-answer",
            title=_("Median days from sending to a first answer"),
            description=_(
                "Per organisation; organisations whose answers stall are marked ⚠. "
                "The table below gives the same numbers."
            ),
            bars=[
                (figures.name, days(figures.median_first_answer_days))
                for figures in review.organisations
            ],
            unit=_(" d"),
            flagged=stalled,
        ),
    }
    return {
        "review": review,
        "charts": charts,
        "statuses": Referral.Status.choices,
        "query": form.query(without=("organisation",)),
        "full_query": form.query(),
        "stall_days": reports.STALL_DAYS,
        "no_response_share": round(100 * reports.NO_RESPONSE_SHARE),
    }


@coordinator_required
@require_GET
def referral_review_csv(request: HttpRequest) -> HttpResponse:
    form = ReferralFilterForm(request.GET)
    if not form.is_valid():
        problems = "\n".join(
            f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()
        )
        return HttpResponse(problems, status=400, content_type="text/plain; charset=utf-8")
    data = form.cleaned_data
    review = figures_for("referrals", form)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"haven-referrals-{data['start']:%Y-%m-%d}-{data['end']:%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "organisation",
            *Referral.Status.values,
            "total",
            "with_outcome",
            "acceptance_rate",
            "median_days_to_first_answer",
            "median_days_to_outcome",
            "follow_ups_overdue",
            f"sent_over_{reports.STALL_DAYS}_days_without_answer",
            "stalled",
            "outcomes_confirmed_by_partner",
            "outcomes_recorded_by_volunteer",
            "median_days_to_partner_first_answer",
            "stated_answer_days",
            *(f"declined_{reason}" for reason in Referral.FailureReason.values),
        ]
    )
    for figures in [*review.organisations, review.overall]:
        writer.writerow(
            [
                csv_text(str(figures.name)),
                *(figures.counts.get(status, 0) for status in Referral.Status.values),
                figures.total,
                figures.with_outcome,
                csv_number(figures.acceptance_rate, 3),
                csv_number(figures.median_first_answer_days, 2),
                csv_number(figures.median_outcome_days, 2),
                figures.overdue_follow_ups,
                figures.unanswered_long,
                "yes" if figures.stalled and figures is not review.overall else "no",
                figures.partner_confirmed,
                figures.volunteer_recorded,
                csv_number(figures.median_partner_answer_days, 2),
                figures.stated_answer_days or "",
                *(figures.declines.get(reason, 0) for reason in Referral.FailureReason.values),
            ]
        )
    return response


@coordinator_required
@require_GET
def referral_cases(request: HttpRequest) -> HttpResponse:
    form = DrillDownForm(request.GET)
    if not form.is_valid():
        return render(
            request,
            "helpdesk/reports/referral_cases.html",
            {"form": form, "page": None},
            status=400,
        )
    data = form.cleaned_data
    cases, destroyed = reports.drill_down(
        status=data["status"], start=data["start"], end=data["end"], **form.filters()
    )
    query = request.GET.copy()
    query.pop("page", None)
    status_label = dict(form.fields["status"].choices).get(data["status"]) if data["status"] else ""
    context = case_list_context(
        request,
        cases,
        form=form,
        query=query.urlencode(),
        review_query=form.query(),
        destroyed=destroyed,
        status_label=status_label,
    )
    return render(request, "helpdesk/reports/referral_cases.html", context)


@coordinator_required
@require_GET
def desk_health(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET)
    return report_page(request, "health", form, figures="health", draw=health_context)


def health_context(health: reports.DeskHealth) -> dict:
    waiting_now = {
        f"{wait.language} · {wait.need}" for wait in health.pool_waits if wait.still_waiting
    }
    charts = {
        "weeks": column_chart(
            chart_id="chart-weeks",
            title=_("New cases per week"),
            description=_("ISO weeks of the period; the table below splits them by need."),
            columns=[(week.week.split("-")[1], week.cases) for week in health.weeks],
        ),
        "escalations": column_chart(
            chart_id="chart-escalations",
            title=_("Escalations per week"),
            description=_("Cases whose first answer came too late, by the week it happened."),
            columns=[(week.week.split("-")[1], week.escalations) for week in health.weeks],
        ),
        "pool": bar_chart(
            chart_id="chart-pool",
            title=_("Median hours waiting for a volunteer"),
            description=_(
                "By the person's first language and need, longest first; ⚠ marks groups "
                "with cases still waiting. The table below gives the same numbers."
            ),
            bars=[
                (f"{wait.language} · {wait.need}", round(wait.median_wait_hours, 1))
                for wait in health.pool_waits
            ],
            unit=_(" h"),
            flagged=waiting_now,
        ),
    }
    return {"health": health, "charts": charts}
