"""Where a staff page's time goes: serve each staff list and the workspace N times
in-process (the test client, the seeded `haven_bench` database, production settings)
under cProfile, and print the mean milliseconds per request and the functions that
cost the most, by their own time and with what they call.

    python bench/profile_staff.py [--requests 300] [--only pool] [--top 25]

A profile inflates small calls; read it for where the time goes, and wrk (bench/run.py)
for how fast a page is.
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
    args = parser.parse_args()

    environment.apply()
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from bench.run import STAFF_LISTS, pages

    targets = [p for p in pages() if p["name"] in STAFF_LISTS or p["name"] == "bare view"]
    if args.only:
        words = args.only.split(",")
        targets = [p for p in targets if any(w in p["name"] for w in words)]
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


if __name__ == "__main__":
    main()
