"""Time the reports' daily rollups on the seeded database (bench/seed.py): a full
rebuild, the refresh of one changed day, and every report page cold and warm in-process
under several filters (no cache is left between them: each request reads the rollups).

    BENCH_DATABASE=haven_bench .venv/bin/python bench/rollups.py [--no-rebuild | --reports-only]

Prints a Markdown table; nothing here is part of the test suite."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import environment  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-rebuild", action="store_true")
    parser.add_argument(
        "--reports-only", action="store_true",
        help="no rebuild and no refresh first: the reports' first requests as they find the "
        "database (after a restart of PostgreSQL, say)",
    )  # fmt: skip
    parser.add_argument("--repeat", type=int, default=5, help="warm requests per page")
    parser.add_argument(
        "--wrk", type=int, default=0, metavar="PORT",
        help="then load each page with wrk at 8 connections for 10 s (gunicorn on PORT)",
    )  # fmt: skip
    args = parser.parse_args()
    environment.apply()
    import django

    django.setup()
    from django.core.management import call_command

    from bench.run import staff_session, start_gunicorn, wait_until_idle, wrk
    from helpdesk import rollups
    from helpdesk.models import Case, DailyRollup, Referral, RollupChange, User
    from helpdesk.roles import Role
    from resources.models import Need, Organisation

    call_command("collectstatic", verbosity=0, interactive=False)
    print(
        f"{Case.objects.count():,} cases, {Referral.objects.count():,} referrals "
        f"in {environment.DATABASE}"
    )
    if not (args.no_rebuild or args.reports_only):
        started = time.perf_counter()
        rows = rollups.rebuild()
        print(f"| full rebuild | {time.perf_counter() - started:.1f} s | {rows:,} rows |")
        started = time.perf_counter()
        rollups.tidy()
        print(f"| then VACUUM (ANALYZE) | {time.perf_counter() - started:.1f} s | |")
    if args.reports_only:
        rollups.renew_version()  # no figures or page kept from an earlier run
    else:
        busiest = (
            DailyRollup.objects.filter(span=rollups.DAY, organisation__isnull=True)
            .order_by("-cases")
            .first()
            .day
        )
        ended = date.today().replace(day=1) - timedelta(days=20)  # a day of last month
        # As a report asks: at most LIVE_DAYS days, and no month rows made.
        for label, day in ((f"the busiest day ({busiest})", busiest), ("today", date.today())):
            RollupChange.objects.create(day=day)
            started = time.perf_counter()
            rollups.refresh_changed(most=rollups.live_days())
            print(f"| refresh of {label} | {1000 * (time.perf_counter() - started):.0f} ms | |")
        # The beat's run (most=None) also makes the month rows of the ended months that
        # changed: first one untimed for the months marked above, then one month's.
        rollups.refresh_changed()
        RollupChange.objects.create(day=ended)
        started = time.perf_counter()
        rollups.refresh_changed()
        print(
            f"| the beat's refresh of a day of an ended month ({ended}), its month rows remade "
            f"| {1000 * (time.perf_counter() - started):.0f} ms | |"
        )

    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", HTTP_SEC_FETCH_SITE="same-origin")
    session = staff_session(User.objects.get(role=Role.COORDINATOR))
    client.cookies[settings.SESSION_COOKIE_NAME] = session
    two_years = (date.today() - timedelta(days=729)).isoformat()
    organisation = Organisation.objects.order_by("pk").first().slug
    need = Need.objects.order_by("pk").first().slug
    pages = [
        ("referral review, 90 days", "/desk/reports/referrals/"),
        ("referral review, 2 years", f"/desk/reports/referrals/?start={two_years}"),
        (
            "referral review, 2 years, organisation",
            f"/desk/reports/referrals/?start={two_years}&organisation={organisation}",
        ),
        (
            "referral review, 2 years, need+country+language",
            f"/desk/reports/referrals/?start={two_years}&need={need}&country=SY&language=ar",
        ),
        ("referral review CSV, 2 years", f"/desk/reports/referrals.csv?start={two_years}"),
        ("desk health, 90 days", "/desk/reports/health/"),
        ("desk health, 2 years", f"/desk/reports/health/?start={two_years}"),
        (
            "drill-down, 2 years, sent",
            f"/desk/reports/referrals/cases/?start={two_years}&status=sent",
        ),
    ]
    # Django's own first request (URLs, middleware, the staff base template) is not a
    # report's: as in bench/run.py, where other pages come first.
    assert client.get("/desk/").status_code == 200
    print("| page | cold (first) | warm median | warm max |")
    print("|---|---|---|---|")
    for name, path in pages:
        started = time.perf_counter()
        response = client.get(path)
        cold = 1000 * (time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
        warm = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            client.get(path)
            warm.append(1000 * (time.perf_counter() - started))
        print(f"| {name} | {cold:.0f} ms | {statistics.median(warm):.0f} ms | {max(warm):.0f} ms |")

    if not args.wrk:
        return
    import os
    import signal

    server = start_gunicorn(args.wrk, environment.bench_environment())
    print("| page (wrk, 8 connections, 10 s) | req/s | p50 | p95 | p99 | errors |")
    print("|---|---|---|---|---|---|")
    try:
        for name, path in pages:
            url = f"http://127.0.0.1:{args.wrk}{path}"
            page = {"session": session}
            wrk(url, page, 8, 3)
            wait_until_idle(args.wrk)
            run = wrk(url, page, 8, 10)
            print(
                f"| {name} | {run['rps']:.0f} | {run['p50_ms']:.0f} ms | {run['p95_ms']:.0f} ms "
                f"| {run['p99_ms']:.0f} ms | {run['errors'] + run['non_2xx_3xx']} |",
                flush=True,
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=45)


if __name__ == "__main__":
    main()
