"""Serve the seeded `haven_bench` database with gunicorn (production settings, 2 sync
workers, 127.0.0.1 only, no access log) and load each page with wrk: 1 thread, a
warm-up, then 8 and 32 connections. Records requests/s, p50/p95/p99, SQL queries per
request (counted once per page in-process) and the workers' resident memory; writes
bench/results/<cases>.json and .md and prints the change against the previous run.

    python bench/run.py [--duration 10] [--warmup 3] [--port 8765]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import environment  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
LUA = HERE / "report.lua"
POST_LUA = HERE / "post.lua"
CONNECTIONS = (8, 32)


def staff_session(user) -> str:
    """A signed-in session that has passed the second factor, as the login flow leaves
    it: Django's auth keys plus allauth's record of a password and a TOTP step."""
    from importlib import import_module

    from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    now = time.time()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": now, "email": user.email},
        {"method": "mfa", "at": now, "type": "totp"},
    ]
    store["account_authentication_methods_user"] = str(user.pk)
    store.create()
    return store.session_key


def concern_form() -> tuple[str, str]:
    """A filled-in concern form as the browser would post it (url-encoded, its
    submission key left as __KEY__ for post.lua) and the Cookie header its CSRF token
    needs: fetched from /write/ like a visitor would."""
    import re
    from urllib.parse import urlencode

    from django.conf import settings
    from django.test import Client

    from resources.models import Need

    client = Client(HTTP_HOST="127.0.0.1")
    page = client.get("/write/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    cookie = f"{settings.CSRF_COOKIE_NAME}={client.cookies[settings.CSRF_COOKIE_NAME].value}"
    form = {
        "csrfmiddlewaretoken": token,
        "for_whom": "self",
        "need": Need.objects.get(slug="asylum-be").pk,
        "country": "UG",
        "language_1": "en",
        "language_2": "fr",
        "language_3": "",
        "in_danger": "no",
        "description": "Neighbours found out about my partner and threatened us. "
        "We need to know whether we can ask for protection in Belgium.",
        "contact_channel": "none",
        "consent": "on",
        "submission_key": "__KEY__",
    }
    return urlencode(form), cookie


def submitter_session() -> str:
    """The session of a person who sent a concern through the form and opened their
    inbox with the receipt they were shown, as a visitor does it."""
    import re

    from django.conf import settings
    from django.test import Client

    form, cookie = concern_form()
    client = Client(HTTP_HOST="127.0.0.1", HTTP_SEC_FETCH_SITE="same-origin")
    client.cookies.load(cookie)
    data = form.replace("__KEY__", f"bench-inbox-{time.time_ns()}")
    # The receipt is shown once, by the page the post redirects to (with its cookie).
    page = client.post(
        "/write/", data, content_type="application/x-www-form-urlencoded", follow=True
    ).content.decode()
    receipt = re.search(r'id="receipt-code"[^>]*value="([0-9A-Z-]+)"', page).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post("/follow-up/", {"receipt": receipt, "csrfmiddlewaretoken": token})
    if response.status_code != 302:
        raise SystemExit("could not open the bench case's inbox with its receipt")
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def pages() -> list[dict]:
    """The pages to load, each with the session it needs (None: anonymous)."""
    from django.db.models import Count, Q

    from helpdesk.models import Case, User
    from helpdesk.roles import Role

    coordinator = User.objects.get(role=Role.COORDINATOR)
    # The busiest volunteer: a full desk, and the pool they may claim from.
    volunteer = (
        User.objects.filter(role=Role.VOLUNTEER)
        .annotate(open=Count("cases", filter=~Q(cases__status=Case.Status.CLOSED)))
        .order_by("-open", "pk")
        .first()
    )
    case = (
        Case.objects.open()
        .with_content()
        .filter(volunteer=volunteer)
        .annotate(n=Count("messages"))
        .order_by("-n", "pk")
        .first()
    )
    top_language = case.language
    volunteer_session = staff_session(volunteer)
    coordinator_session = staff_session(coordinator)
    two_years = (date.today() - timedelta(days=729)).isoformat()
    return [
        {"name": "bare view", "path": "/bench/bare/", "session": None},
        {"name": "intake form GET", "path": "/write/", "session": None},
        {"name": "inbox", "path": "/follow-up/inbox/", "session": submitter_session()},
        {"name": "volunteer's cases", "path": "/desk/", "session": volunteer_session},
        {"name": "pool (volunteer)", "path": "/desk/pool/", "session": volunteer_session},
        {"name": "pool (coordinator)", "path": "/desk/pool/", "session": coordinator_session},
        {
            "name": "case workspace",
            "path": f"/desk/cases/{case.reference}/",
            "session": volunteer_session,
        },
        {
            "name": "all cases, filtered",
            "path": f"/desk/cases/?status=closed&language={top_language}",
            "session": coordinator_session,
        },
        {
            "name": "referral review (90 days)",
            "path": "/desk/reports/referrals/",
            "session": coordinator_session,
        },
        {
            "name": "referral review (2 years)",
            "path": f"/desk/reports/referrals/?start={two_years}",
            "session": coordinator_session,
        },
        {
            "name": "desk health (90 days)",
            "path": "/desk/reports/health/",
            "session": coordinator_session,
        },
        {
            "name": "desk health (2 years)",
            "path": f"/desk/reports/health/?start={two_years}",
            "session": coordinator_session,
        },
        # Last: its thousands of new cases wait for routing (no worker runs here), and
        # would otherwise crowd the pool and the lists measured after it.
        {"name": "intake form POST", "path": "/write/", "session": None, "post": concern_form()},
    ]


def count_queries(page: dict) -> tuple[int, int, float, float]:
    """Status, SQL queries and milliseconds of one request served in-process, after one
    request to warm the caches (a figure even for a page too slow for wrk), and the
    milliseconds of that first, cold request (the run starts with Redis emptied)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_SEC_FETCH_SITE="same-origin")
    if page["session"]:
        client.cookies[settings.SESSION_COOKIE_NAME] = page["session"]

    def request():
        if "post" not in page:
            return client.get(page["path"])
        form, cookie = page["post"]
        client.cookies.load(cookie)
        body = form.replace("__KEY__", f"bench-single-{time.time_ns()}")
        return client.post(page["path"], body, content_type="application/x-www-form-urlencoded")

    started = time.perf_counter()
    request()
    cold = round(1000 * (time.perf_counter() - started), 1)
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        response = request()
    elapsed = round(1000 * (time.perf_counter() - started), 1)
    return response.status_code, len(captured), elapsed, cold


def start_gunicorn(port: int, env: dict) -> subprocess.Popen:
    command = environment.gunicorn_command(port)
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    url = f"http://127.0.0.1:{port}/bench/bare/"
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer on 127.0.0.1")


def wait_until_idle(port: int) -> None:
    """Requests wrk left queued keep the workers busy after it stops; the next page must
    not pay for them. Idle means the bare view answers fast three times in a row."""
    url = f"http://127.0.0.1:{port}/bench/bare/"
    fast = 0
    deadline = time.monotonic() + 300
    while fast < 3 and time.monotonic() < deadline:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - local
                response.read()
        except OSError:  # still busy, or a worker timed out and was replaced
            fast = 0
            continue
        fast = fast + 1 if time.monotonic() - started < 0.05 else 0


def worker_rss_mb(server: subprocess.Popen) -> list[float]:
    command = ["ps", "-o", "rss=", "--ppid", str(server.pid)]
    out = subprocess.run(command, capture_output=True, text=True).stdout  # noqa: S603, S607
    return [round(int(kb) / 1024, 1) for kb in out.split()]


def wrk(url: str, page: dict, connections: int, seconds: int) -> dict:
    """One wrk run against `url`; for a form post, also the cases it really created."""
    import tempfile

    from django.conf import settings

    from helpdesk.models import Case

    with tempfile.TemporaryDirectory() as scratch:
        script, arguments = LUA, []
        if "post" in page:
            form, cookie = page["post"]
            script = Path(scratch) / "post.lua"
            script.write_text(POST_LUA.read_text() + "\n" + LUA.read_text())
            (Path(scratch) / "form").write_text(form)
            arguments = ["--", str(Path(scratch) / "form"), cookie]
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
        command += ["-s", str(script)]
        if page["session"]:
            command += ["-H", f"Cookie: {settings.SESSION_COOKIE_NAME}={page['session']}"]
        command += ["--timeout", "30s", url, *arguments]  # a slow page is measured, not dropped
        cases_before = Case.objects.count()
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
        created = Case.objects.count() - cases_before
    line = next(line for line in out.splitlines() if line.startswith("JSON "))
    raw = json.loads(line[5:])
    seconds_run = raw["duration_us"] / 1e6
    return {
        "rps": round(raw["requests"] / seconds_run, 1),
        "p50_ms": round(raw["p50"] / 1000, 2),
        "p95_ms": round(raw["p95"] / 1000, 2),
        "p99_ms": round(raw["p99"] / 1000, 2),
        "requests": raw["requests"],
        "errors": raw["errors"],
        "non_2xx_3xx": raw["status_errors"],
        **(
            {"cases_created": created, "cases_per_s": round(created / seconds_run, 1)}
            if "post" in page
            else {}
        ),
    }


def markdown(result: dict) -> str:
    bare = result["pages"][0]
    lines = [
        f"# Haven benchmark: {result['cases']:,} cases",
        "",
        f"{result['date']}, commit `{result['commit']}`, {result['cpus']} CPUs; gunicorn 2 sync "
        f"workers, wrk 1 thread, {result['duration_s']} s per run after a "
        f"{result['warmup_s']} s warm-up. Worker RSS at the end: "
        f"{', '.join(f'{mb} MB' for mb in result['worker_rss_mb'])} "
        f"(peak seen {result['worker_rss_peak_mb']} MB).",
        "",
        "In-process: one request served by the test client after a first one; (cold): "
        "that first request, with Redis emptied at the start of the run, so no shared "
        "cache (reports, shortage table, library version) was warm. A page with no request "
        "finished within a wrk run shows —.",
        "",
        "| page | SQL | in-process ms (cold) | c | req/s | % of bare | p50 ms | p95 ms | p99 ms "
        "| errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for page in result["pages"]:
        for c in CONNECTIONS:
            run = page["runs"][str(c)]
            share = 100 * run["rps"] / bare["runs"][str(c)]["rps"]
            errors = run["errors"] + run["non_2xx_3xx"]
            rps = f"{run['rps']:.0f}" if run["rps"] >= 10 else f"{run['rps']:.1f}"
            single = f"{page['single_ms']} ({page['cold_ms']})" if "cold_ms" in page else ""
            if run["requests"]:
                latency = f"{run['p50_ms']:.1f} | {run['p95_ms']:.1f} | {run['p99_ms']:.1f}"
            else:
                latency = "— | — | —"
            lines.append(
                f"| {page['name']} | {page['queries']} | {single} | {c} | {rps} | "
                f"{share:.0f} % | {latency} | {errors} |"
            )
    lines += ["", "## Issue 7's targets", "", "| target | measured | |", "|---|---|---|"]
    lines += [
        f"| {target} | {measured} | {verdict} |" for target, measured, verdict in targets(result)
    ]
    lines.append("")
    for page in result["pages"]:
        for c in CONNECTIONS:
            run = page["runs"][str(c)]
            if "cases_created" in run:
                share = 100 * run["cases_per_s"] / bare["runs"][str(c)]["rps"]
                lines.append(
                    f"\n{page['name']} at {c} connections: {run['cases_created']:,} cases "
                    f"really created, {run['cases_per_s']:.0f} cases/s = {share:.0f} % of the "
                    "bare view's requests/s."
                )
    return "\n".join(lines) + "\n"


STAFF_LISTS = (
    "volunteer's cases",
    "pool (volunteer)",
    "pool (coordinator)",
    "case workspace",
    "all cases, filtered",
)
REPORTS = (
    "referral review (90 days)",
    "referral review (2 years)",
    "desk health (90 days)",
    "desk health (2 years)",
)


def targets(result: dict) -> list[tuple[str, str, str]]:
    """Each target of issue 7 that a run measures, what this run measured, met or not."""
    pages = {page["name"]: page for page in result["pages"]}
    bare = pages["bare view"]["runs"]["8"]["rps"]

    def c8(name: str) -> dict:
        return pages[name]["runs"]["8"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**short**"

    rows = []
    if "intake form GET" in pages:
        share = 100 * c8("intake form GET")["rps"] / bare
        rows.append(("intake GET ≥ 25 % of bare (c8)", f"{share:.0f} %", verdict(share >= 25)))
    if "intake form POST" in pages:
        run = c8("intake form POST")
        share = 100 * run["cases_per_s"] / bare
        rows.append(
            (
                "intake POST ≥ 10 % of bare in cases/s, p95 < 50 ms (c8)",
                f"{run['cases_per_s']:.0f} cases/s = {share:.0f} %, p95 {run['p95_ms']:.0f} ms",
                verdict(share >= 10 and run["p95_ms"] < 50),
            )
        )
    for name in STAFF_LISTS:
        if name in pages:
            run, queries = c8(name), pages[name]["queries"]
            share = 100 * run["rps"] / bare
            rows.append(
                (
                    f"{name}: ≥ 10 % of bare, p95 < 50 ms (c8), ≤ 10 SQL",
                    f"{share:.0f} %, p95 {run['p95_ms']:.0f} ms, {queries} SQL",
                    verdict(share >= 10 and run["p95_ms"] < 50 and queries <= 10),
                )
            )
    for name in REPORTS:
        if name in pages:
            run = c8(name)
            rows.append(
                (
                    f"{name}: p95 < 300 ms (c8)",
                    f"p95 {run['p95_ms']:.0f} ms (cold in-process {pages[name]['cold_ms']:.0f} ms)",
                    verdict(run["requests"] > 0 and run["p95_ms"] < 300),
                )
            )
    peak = result["worker_rss_peak_mb"]
    rows.append(("web worker < 150 MB resident", f"peak {peak} MB", verdict(peak < 150)))
    return rows


def compare(previous: dict, result: dict) -> None:
    before = {page["name"]: page for page in previous["pages"]}
    print(f"\nChange against the previous run ({previous['date']}, {previous['commit']}):")
    for page in result["pages"]:
        old = before.get(page["name"])
        if old is None:
            continue
        for c in CONNECTIONS:
            new_run, old_run = page["runs"][str(c)], old["runs"].get(str(c))
            if not old_run:
                continue
            rps = f"{100 * (new_run['rps'] / old_run['rps'] - 1):+.0f} %" if old_run["rps"] else "—"
            print(
                f"  {page['name']:<28} c{c:<3} req/s {old_run['rps']:>7.0f} -> "
                f"{new_run['rps']:>7.0f} ({rps})  p95 {old_run['p95_ms']:.1f} -> "
                f"{new_run['p95_ms']:.1f} ms  SQL {old['queries']} -> {page['queries']}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated words: run only the pages whose name holds one (and the bare "
        "view); the results are then printed, not written",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: sudo apt-get install wrk (make bench does it as root)")

    env = environment.bench_environment()
    environment.apply()
    import django
    import redis

    django.setup()
    from django.core.management import call_command

    from helpdesk.models import Case

    environment.migrate()
    call_command("collectstatic", verbosity=0, interactive=False)
    cases = Case.objects.count()
    # Tasks a previous run queued for a worker that never came, and its rate counters.
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    targets = pages()
    if args.only:
        words = args.only.split(",")
        targets = [targets[0]] + [p for p in targets[1:] if any(w in p["name"] for w in words)]
    for page in targets:
        page["status"], page["queries"], page["single_ms"], page["cold_ms"] = count_queries(page)
        print(
            f"  {page['name']:<28} HTTP {page['status']}  {page['queries']:>3} SQL queries  "
            f"{page['single_ms']:>8.1f} ms in-process ({page['cold_ms']:.1f} ms cold)"
        )
        # A submission answers with the redirect to its receipt (post/redirect/get).
        expected = 302 if page.get("post") else 200
        if page["status"] != expected:
            raise SystemExit(f"{page['path']} answered {page['status']}, not {expected}")

    server = start_gunicorn(args.port, env)
    peak = 0.0
    try:
        for page in targets:
            url = f"http://127.0.0.1:{args.port}{page['path']}"
            wrk(url, page, CONNECTIONS[0], args.warmup)
            page["runs"] = {}
            for c in CONNECTIONS:
                wait_until_idle(args.port)
                run = wrk(url, page, c, args.duration)
                page["runs"][str(c)] = run
                peak = max([peak, *worker_rss_mb(server)])
                print(
                    f"  {page['name']:<28} c{c:<3} {run['rps']:>7.0f} req/s  "
                    f"p50 {run['p50_ms']:>7.1f}  p95 {run['p95_ms']:>7.1f}  "
                    f"p99 {run['p99_ms']:>7.1f} ms  errors {run['errors'] + run['non_2xx_3xx']}"
                    + (f"  cases created {run['cases_created']}" if "post" in page else ""),
                    flush=True,
                )
        rss = worker_rss_mb(server)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=45)
        except subprocess.TimeoutExpired:  # workers stuck on a slow page past graceful_timeout
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    git = ["git", "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, cwd=ROOT, capture_output=True, text=True).stdout.strip()  # noqa: S603, S607
    result = {
        "cases": cases,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "cpus": os.cpu_count(),
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "worker_rss_mb": rss,
        "worker_rss_peak_mb": peak,
        "pages": [
            {key: page[key] for key in ("name", "path", "queries", "single_ms", "cold_ms", "runs")}
            for page in targets
        ],
    }
    for page in result["pages"]:
        if page["name"] == "case workspace":
            page["path"] = "/desk/cases/<reference>/"  # no case reference in the results
    if args.only:
        print(markdown(result))
        return
    RESULTS.mkdir(exist_ok=True)
    # Named by the seeded size: the form posts of a run add a few thousand cases.
    size = round(cases, 1 - len(str(cases)))
    target = RESULTS / f"{size}.json"
    previous = json.loads(target.read_text()) if target.exists() else None
    target.write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{size}.md").write_text(markdown(result))
    print(f"\nWrote {target.relative_to(ROOT)} and {target.with_suffix('.md').relative_to(ROOT)}")
    if previous:
        compare(previous, result)


if __name__ == "__main__":
    main()
