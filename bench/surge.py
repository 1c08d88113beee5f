"""A surge: concerns arriving at a fixed rate (200 a second for a minute) while 20 staff
sessions browse their lists and cases. Serves the seeded `haven_bench` database as
bench/run.py does (production settings, gunicorn with 2 sync workers on 127.0.0.1).

- Submissions are sent open-loop, as people arrive: one every 1/rate seconds whatever
  the server's pace, each on its own connection with a submission key of its own. A
  person refused (a 503, a dropped connection) sends the same form again a second
  later, up to 5 times, as the refusal page asks.
- Staff: wrk with 20 connections, each request the next of 20 sessions' pages (4
  coordinator and 16 volunteer sessions: their cases, the pool, all cases filtered, a
  case's workspace), each connection waiting `--think` ms between pages.
- First the staff alone for `--quiet` seconds, then the same staff load during the
  surge. Afterwards every submission key sent is looked up: no case may be missing.

Writes bench/results/surge.md and .json (no receipt, no content, no case reference).

    python bench/surge.py [--rate 200] [--seconds 60] [--think 1000] [--quiet 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import environment  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
COORDINATOR_SESSIONS = 4
VOLUNTEER_SESSIONS = 16
RETRIES = 5
RETRY_SECONDS = 1.0
TIMEOUT_SECONDS = 60.0
STAFF_P95_TARGET_MS = 150


def staff_visits() -> list[tuple[str, str]]:
    """(Cookie header, path) of every page the 20 sessions open, in turn."""
    from django.conf import settings
    from django.db.models import Count, Q

    from bench.run import staff_session
    from helpdesk.models import Case, User
    from helpdesk.roles import Role

    cookie = settings.SESSION_COOKIE_NAME
    coordinator = User.objects.get(role=Role.COORDINATOR)
    volunteers = list(
        User.objects.filter(role=Role.VOLUNTEER)
        .annotate(open=Count("cases", filter=~Q(cases__status=Case.Status.CLOSED)))
        .filter(open__gt=0)
        .order_by("-open", "pk")[:VOLUNTEER_SESSIONS]
    )
    visits = []
    for volunteer in volunteers:
        session = f"{cookie}={staff_session(volunteer)}"
        case = Case.objects.open().with_content().filter(volunteer=volunteer).first()
        visits += [(session, "/desk/"), (session, "/desk/pool/")]
        if case is not None:
            visits.append((session, f"/desk/cases/{case.reference}/"))
    some_case = Case.objects.open().with_content().exclude(volunteer=None).first()
    for n in range(COORDINATOR_SESSIONS):
        session = f"{cookie}={staff_session(coordinator)}"
        visits += [
            (session, "/desk/pool/"),
            (session, f"/desk/cases/?status=new&page={n + 1}"),
            (session, f"/desk/cases/{some_case.reference}/"),
            (session, "/desk/"),
        ]
    # Interleave the sessions, so the 20 connections mix lists and cases at any moment.
    return visits[0::3] + visits[1::3] + visits[2::3]


class Submissions:
    """Concern forms sent open-loop at a fixed rate, each retried as a refused person
    would; what each ended as."""

    def __init__(self, port: int, form: str, cookie: str, run: str) -> None:
        self.port, self.form, self.cookie, self.run = port, form, cookie, run
        self.keys: list[str] = []
        self.latencies_ms: list[float] = []
        self.outcomes: dict[str, int] = {}
        self.refusals = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.behind_ms = 0.0  # the latest any send started after its time

    async def post_once(self, key: str) -> int:
        body = self.form.replace("__KEY__", key).encode()
        request = (
            "POST /write/ HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{self.port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Cookie: {self.cookie}\r\n"
            "Origin: null\r\nSec-Fetch-Site: same-origin\r\nConnection: close\r\n\r\n"
        ).encode() + body
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(request)
            await writer.drain()
            status_line = await reader.readline()
            await reader.read()  # the rest, until the server closes
        finally:
            writer.close()
        return int(status_line.split()[1])

    async def person(self, key: str) -> None:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        outcome = "gave up"
        try:
            for attempt in range(RETRIES + 1):
                started = time.perf_counter()
                try:
                    status = await asyncio.wait_for(self.post_once(key), TIMEOUT_SECONDS)
                except (OSError, IndexError, ValueError, TimeoutError):
                    status = 0
                self.latencies_ms.append(1000 * (time.perf_counter() - started))
                if status == 302:  # the receipt, shown by the page this redirects to
                    outcome = "receipt" if attempt == 0 else "receipt after a retry"
                    break
                if status == 409 and attempt > 0:
                    # Sent again after a lost answer: the form says it arrived already.
                    outcome = "already sent (retry)"
                    break
                self.refusals += 1
                await asyncio.sleep(RETRY_SECONDS)
        finally:
            self.in_flight -= 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    async def send(self, rate: float, seconds: float) -> float:
        loop = asyncio.get_running_loop()
        start, tasks = loop.time(), []
        total = int(rate * seconds)
        for n in range(total):
            due = start + n / rate
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                self.behind_ms = max(self.behind_ms, -1000 * wait)
            key = f"surge-{self.run}-{n}"
            self.keys.append(key)
            tasks.append(asyncio.create_task(self.person(key)))
        sent_in = loop.time() - start
        await asyncio.gather(*tasks)
        return sent_in


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def staff_wrk(port: int, visits_file: Path, think: int, seconds: int) -> subprocess.Popen:
    script = Path(tempfile.mkdtemp()) / "staff.lua"
    script.write_text((HERE / "staff.lua").read_text() + "\n" + (HERE / "report.lua").read_text())
    command = [
        "wrk", "-t1", f"-c{COORDINATOR_SESSIONS + VOLUNTEER_SESSIONS}", f"-d{seconds}s",
        "--timeout", "30s", "-s", str(script), f"http://127.0.0.1:{port}/",
        "--", str(visits_file), str(think),
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603


def wrk_result(process: subprocess.Popen) -> dict:
    out, _ = process.communicate()
    line = next(line for line in out.splitlines() if line.startswith("JSON "))
    raw = json.loads(line[5:])
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": round(raw["p50"] / 1000, 1),
        "p95_ms": round(raw["p95"] / 1000, 1),
        "p99_ms": round(raw["p99"] / 1000, 1),
        "errors": raw["errors"] + raw["status_errors"],
    }


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--think", type=int, default=1000, help="ms between a session's pages")
    parser.add_argument("--quiet", type=int, default=15, help="seconds of staff alone first")
    parser.add_argument("--port", type=int, default=8766, help="and the next one for staff")
    parser.add_argument(
        "--shared",
        action="store_true",
        help="staff pages served by the same gunicorn as the public side, not by their own "
        "(deploy/Caddyfile sends /desk/, /accounts/ and /admin/ to the staff containers)",
    )
    parser.add_argument("--no-write", action="store_true", help="print, write no result")
    args = parser.parse_args()
    # One connection per person waiting: raise the open-files limit as far as allowed.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    env = environment.bench_environment()
    environment.apply()
    import django
    import redis

    django.setup()
    from django.core.management import call_command

    from bench.run import concern_form, start_gunicorn, wait_until_idle, worker_rss_mb
    from helpdesk.models import Case

    environment.migrate()
    call_command("collectstatic", verbosity=0, interactive=False)
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    seeded = Case.objects.count()
    visits = staff_visits()
    form, cookie = concern_form()
    run = str(time.time_ns())
    scratch = Path(tempfile.mkdtemp())
    visits_file = scratch / "visits"
    visits_file.write_text("".join(f"{c}\t{p}\n" for c, p in visits))

    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": subprocess.run(  # noqa: S603
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT, capture_output=True, text=True,
        ).stdout.strip(),
        "cases": seeded,
        "cpus": os.cpu_count(),
        "rate": args.rate,
        "seconds": args.seconds,
        "think_ms": args.think,
        "staff_sessions": COORDINATOR_SESSIONS + VOLUNTEER_SESSIONS,
        "staff_pages": len(visits),
        "load_before": load_average(),
    }  # fmt: skip
    shared = "the public side's gunicorn"
    result["staff_served_by"] = shared if args.shared else "their own gunicorn"
    server = start_gunicorn(args.port, env)
    servers = [server]
    staff_port = args.port if args.shared else args.port + 1
    peak = 0.0
    try:
        if not args.shared:
            servers.append(start_gunicorn(staff_port, env))
        wait_until_idle(staff_port)
        warm = staff_wrk(staff_port, visits_file, 0, 3)
        wrk_result(warm)
        wait_until_idle(staff_port)
        quiet = staff_wrk(staff_port, visits_file, args.think, args.quiet)
        result["staff_alone"] = wrk_result(quiet)
        print(f"  staff alone: {result['staff_alone']}", flush=True)
        wait_until_idle(staff_port)
        submissions = Submissions(args.port, form, cookie, run)
        staff = staff_wrk(staff_port, visits_file, args.think, args.seconds)
        started = time.monotonic()

        async def surge() -> float:
            async def watch():
                nonlocal peak
                while True:
                    peak = max([peak, *(mb for each in servers for mb in worker_rss_mb(each))])
                    await asyncio.sleep(2)

            watcher = asyncio.create_task(watch())
            try:
                return await submissions.send(args.rate, args.seconds)
            finally:
                watcher.cancel()

        sent_in = asyncio.run(surge())
        result["all_answered_s"] = round(time.monotonic() - started, 1)
        result["staff_during_surge"] = wrk_result(staff)
        result["load_after"] = load_average()
    finally:
        for each in servers:
            os.killpg(each.pid, signal.SIGTERM)
        for each in servers:
            try:
                each.wait(timeout=45)
            except subprocess.TimeoutExpired:
                os.killpg(each.pid, signal.SIGKILL)
                each.wait()

    made = set(
        Case.objects.filter(submission_key__startswith=f"surge-{run}-").values_list(
            "submission_key", flat=True
        )
    )
    sent = len(submissions.keys)
    result["submissions"] = {
        "sent": sent,
        "sent_in_s": round(sent_in, 1),
        "rate_achieved": round(sent / sent_in, 1) if sent_in else 0,
        "latest_send_ms": round(submissions.behind_ms, 1),
        "cases_created": len(made),
        "lost": sum(1 for key in submissions.keys if key not in made),
        "outcomes": submissions.outcomes,
        "refused_attempts": submissions.refusals,
        "peak_waiting": submissions.peak_in_flight,
        "p50_ms": round(percentile(submissions.latencies_ms, 0.50), 1),
        "p95_ms": round(percentile(submissions.latencies_ms, 0.95), 1),
        "p99_ms": round(percentile(submissions.latencies_ms, 0.99), 1),
    }
    result["worker_rss_peak_mb"] = peak
    print(json.dumps(result, indent=2))
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "surge.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS / "surge.md").write_text(markdown(result))
        print("\nWrote bench/results/surge.json and surge.md")
    if result["submissions"]["lost"]:
        raise SystemExit(f"{result['submissions']['lost']} submissions lost")


def markdown(result: dict) -> str:
    subs, alone, during = result["submissions"], result["staff_alone"], result["staff_during_surge"]
    outcomes = ", ".join(f"{name}: {n:,}" for name, n in sorted(subs["outcomes"].items()))
    verdict = {True: "met", False: "**short**"}
    p95_ok = during["p95_ms"] < STAFF_P95_TARGET_MS and during["errors"] == 0

    def staff_row(label: str, run: dict) -> str:
        return (
            f"| {label} | {run['requests']:,} | {run['rps']} | {run['p50_ms']} ms | "
            f"{run['p95_ms']} ms | {run['p99_ms']} ms | {run['errors']} |"
        )

    lines = [
        f"# Haven under a surge: {result['rate']:.0f} submissions a second for "
        f"{result['seconds']} s",
        "",
        f"{result['date']}, commit `{result['commit']}`, {result['cases']:,} cases in the "
        "database at the start, "
        f"{result['cpus']} CPUs shared by wrk, the sender, the gunicorn workers and "
        f"PostgreSQL (load average {result['load_before']} before, {result['load_after']} "
        "after). "
        f"{result['staff_sessions']} staff sessions ({COORDINATOR_SESSIONS} coordinator, "
        f"{VOLUNTEER_SESSIONS} volunteer) open {result['staff_pages']} pages in turn (their "
        "cases, the pool, all cases filtered, a case's workspace), each waiting "
        f"{result['think_ms']} ms between pages. Staff pages served by "
        f"{result['staff_served_by']} (2 sync workers each). `make bench` runs this after the "
        "page benchmark; `bench/surge.py` runs only this.",
        "",
        "## Submissions",
        "",
        "| sent | in | rate reached | cases created | lost | p50 | p95 | p99 | most waiting |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {subs['sent']:,} | {subs['sent_in_s']} s | {subs['rate_achieved']}/s | "
        f"{subs['cases_created']:,} | {subs['lost']} | {subs['p50_ms']} ms | "
        f"{subs['p95_ms']} ms | {subs['p99_ms']} ms | {subs['peak_waiting']:,} |",
        "",
        f"How each ended: {outcomes}. Refused attempts (then sent again): "
        f"{subs['refused_attempts']:,}. The last answer came {result['all_answered_s']} s "
        f"after the first submission; the sender was at most {subs['latest_send_ms']} ms "
        "late with a send.",
        "",
        "## Staff pages",
        "",
        "| | requests | req/s | p50 | p95 | p99 | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
        staff_row("staff alone", alone),
        staff_row("during the surge", during),
        "",
        "## Issue 17's targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
        f"| no submission lost | {subs['lost']} lost of {subs['sent']:,} | "
        f"{verdict[subs['lost'] == 0]} |",
        f"| staff pages' p95 under {STAFF_P95_TARGET_MS} ms during the surge | "
        f"{during['p95_ms']} ms | {verdict[p95_ok]} |",
        f"| web worker under 150 MB | peak {result['worker_rss_peak_mb']} MB | "
        f"{verdict[result['worker_rss_peak_mb'] < 150]} |",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
