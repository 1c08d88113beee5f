"""Where a staff page's time goes: serve each staff list and the workspace N times
in-process (the test client, the seeded `haven_bench` database, production settings)
under cProfile, and print the mean milliseconds per request and the functions that
cost the most, by their own time and with what they call.

    python bench/profile_staff.py [--requests 300] [--only pool] [--top 25]
    python bench/profile_staff.py --parts [--rounds 2]

A profile inflates small calls; read it for where the time goes, and wrk (bench/run.py)
for how fast a page is. `--parts` runs no profiler: it times each page's parts with a
clock around them (the whole request; the template's rendering; the SQL, as the wall
time of its statements, the database's share included) beside a signed-in view that
does nothing, the floor every staff page stands on.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import environment  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--only", default="", help="comma-separated words of page names")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", help="tottime or cumulative")
    parser.add_argument("--parts", action="store_true", help="time each page's parts")
    parser.add_argument("--rounds", type=int, default=2, help="with --parts")
    args = parser.parse_args()

    environment.apply()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    call_command("collectstatic", verbosity=0, interactive=False)

    from bench.run import STAFF_LISTS, pages

    targets = [p for p in pages() if p["name"] in STAFF_LISTS or p["name"] == "bare view"]
    if args.only:
        words = args.only.split(",")
        targets = [p for p in targets if any(w in p["name"] for w in words)]
    if args.parts:
        parts(targets, args.requests, args.rounds)
        return
    for page in targets:
        client = Client(HTTP_HOST="127.0.0.1", HTTP_SEC_FETCH_SITE="same-origin")
        if page["session"]:
            client.cookies[settings.SESSION_COOKIE_NAME] = page["session"]
        for _ in range(20):  # warm: caches, the library in memory, compiled templates
            assert client.get(page["path"]).status_code == 200
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.requests):
            client.get(page["path"])
        plain = 1000 * (time.perf_counter() - started) / args.requests
        # CPU time of this process: less disturbed than the wall clock by whatever else
        # the machine runs (the database's share is not in it).
        cpu = 1000 * (time.process_time() - cpu) / args.requests
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            client.get(page["path"])
        profile.disable()
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).strip_dirs().sort_stats(args.sort)
        stats.print_stats(args.top)
        print(
            f"\n=== {page['name']}: {plain:.2f} ms per request in-process, {cpu:.2f} ms "
            "of it this process's CPU (no profiler)"
        )
        print("\n".join(out.getvalue().splitlines()[4:]))


def parts(targets: list[dict], requests: int, rounds: int) -> None:
    """Per page, in milliseconds per request: the whole request in-process, this
    process's CPU, the template's rendering (queries it makes included), the SQL's wall
    time and statements, and what is left: the signed-in request before the view, the
    view's own Python and the ORM building its queries and rows."""
    from contextlib import ExitStack

    from django.conf import settings
    from django.db import connections
    from django.http import HttpResponse
    from django.test import Client
    from django.urls import clear_url_caches, path

    import helpdesk.views
    from bench import urls
    from helpdesk.roles import staff_required

    @staff_required
    def nothing(request):
        return HttpResponse("ok", content_type="text/plain")

    urls.urlpatterns.insert(0, path("bench/signed-in/", nothing))
    clear_url_caches()
    spent = {"render": 0.0, "sql": 0.0, "statements": 0, "rendering": False}
    render = helpdesk.views.render

    def timed_render(*args, **kwargs):
        started, spent["rendering"] = time.perf_counter(), True
        try:
            return render(*args, **kwargs)
        finally:
            spent["render"] += time.perf_counter() - started
            spent["rendering"] = False

    def timed_sql(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            spent["sql"] += took
            spent["statements"] += 1
            if spent["rendering"]:  # a count the template asks for: SQL, not rendering
                spent["render"] -= took

    helpdesk.views.render = timed_render
    staff = [page for page in targets if page["session"]]
    if staff:
        nothing_page = dict(staff[0], name="signed in, a view that does nothing")
        targets = [dict(nothing_page, path="/bench/signed-in/"), *targets]
    print("| page | whole | CPU | rendering | SQL (statements) | the rest |")
    print("|---|---:|---:|---:|---:|---:|")
    with ExitStack() as stack:  # the key store's queries too
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(timed_sql))
        for _round in range(rounds):
            for page in targets:
                client = Client(HTTP_HOST="127.0.0.1", HTTP_SEC_FETCH_SITE="same-origin")
                if page["session"]:
                    client.cookies[settings.SESSION_COOKIE_NAME] = page["session"]
                for _ in range(20):
                    assert client.get(page["path"]).status_code == 200
                spent.update(render=0.0, sql=0.0, statements=0)
                started, cpu = time.perf_counter(), time.process_time()
                for _ in range(requests):
                    client.get(page["path"])
                whole = 1000 * (time.perf_counter() - started) / requests
                cpu = 1000 * (time.process_time() - cpu) / requests
                rendering = 1000 * spent["render"] / requests
                sql = 1000 * spent["sql"] / requests
                rest = whole - rendering - sql
                print(
                    f"| {page['name']} | {whole:.2f} | {cpu:.2f} | {rendering:.2f} | "
                    f"{sql:.2f} ({spent['statements'] / requests:.0f}) | {rest:.2f} |"
                )
    helpdesk.views.render = render


if __name__ == "__main__":
    main()
