"""Time the routing of a 10,000-case pool (issue 7: under 10 seconds).

Seeds a private PostgreSQL database (`haven_routing` on 127.0.0.1:5432, dropped and made
anew, kept as a template so each scenario starts from the same desk): the real library,
200 volunteers and some history from bench/seed.py, then tops the pool up to 10,000
waiting cases. Each scenario copies the template and times `helpdesk.pool.drain_pool`,
the function the beat sweep and every `request_drain` run:

- crisis: every volunteer's capacity is raised by 60, so there is room for the whole
  pool and nearly every case is assigned (10,000 assignments, each under row locks);
- seeded: the capacities as seeded (3 to 8 cases each), so the desk fills up and most
  of the pool stays; drain_pool stops trying once nobody who fits has room.

Afterwards it checks that nobody is over capacity, that no case has two current
assignments and that every assigned case's volunteer holds its one current assignment.
Results go to bench/results/routing.json and .md.

    python bench/routing.py [--pool 10000] [--history 20000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import environment, seed  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DATABASE = "haven_routing"
TEMPLATE = "haven_routing_template"
KEYS = "haven_routing_keys"  # the key store of the template and of every copy
# Routing queues a notification per assignment; they land in this Redis database and
# are thrown away afterwards (no worker reads them).
REDIS_URL = "redis://127.0.0.1:6379/9"
TARGET_SECONDS = 10.0
CRISIS_EXTRA_CAPACITY = 60


def admin(*statements: str) -> None:
    with psycopg.connect(f"{environment.PG}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def pool_rows(desk: seed.Desk, first_id: int, count: int, now: datetime) -> dict[str, list]:
    """Waiting cases as the pool holds them: routed once, nobody fitted, coordinators
    told. Spread over the last two weeks, one in twelve urgent. With their data keys."""
    rng = desk.rng
    made = {"case": [], "datakey": []}
    rows = made["case"]
    for i in range(first_id, first_id + count):
        created = now - timedelta(seconds=rng.uniform(600, 14 * 86400))
        key = desk.new_key(made, created)
        first_language = rng.choices(*desk.codes)[0]
        languages = [first_language]
        if rng.random() < 0.6:
            languages.append("en" if first_language != "en" else "fr")
        rows.append(
            (
                i,
                seed.reference(i),
                hashlib.sha256(b"r%d" % i).hexdigest(),
                hashlib.sha256(b"k%d" % i).hexdigest(),
                "self",
                rng.choice(desk.needs).pk,
                rng.choices(*desk.countries)[0],
                json.dumps(languages),
                first_language,
                rng.random() < 0.08,
                desk.sealed("description", key, "case.description"),
                "none",
                desk.sealed("blank", key, "case.contact_details"),
                desk.sealed("blank", key, "case.contact_safe_times"),
                desk.sealed("blank", key, "case.contact_code_word"),
                "new",
                created,
                False,
                None,
                created + timedelta(minutes=2),
                created,
                None,
                "",
                None,
                None,
                None,
                False,
                key[0],
            )
        )
    return made


def seed_template(pool: int, history: int) -> dict:
    """The desk every scenario starts from, in the template database."""
    from django.db import connection, connections
    from django.utils import timezone

    from helpdesk.models import Case
    from resources.loader import load_resources
    from resources.models import Organisation, ReferralTemplate

    environment.migrate()
    load_resources()
    rng = random.Random(11)
    coordinator, staff, needs = seed.make_staff(rng)
    now = timezone.now()
    desk = seed.Desk(
        rng=rng,
        now=now,
        total=history,
        staff=staff,
        coordinator=coordinator,
        needs=needs,
        organisations=list(Organisation.objects.values_list("pk", flat=True)),
        templates=list(ReferralTemplate.objects.values_list("pk", flat=True)),
        texts=seed.texts_pool(),
    )
    connection.ensure_connection()
    raw = connection.connection
    connections["keys"].ensure_connection()
    keys_raw = connections["keys"].connection

    def copy(rows: dict) -> None:
        with keys_raw.cursor() as keys_cursor, keys_raw.transaction():
            for name, (table, columns) in seed.KEY_TABLES.items():
                seed.copy_rows(keys_cursor, table, columns, rows.get(name, []))
        with raw.transaction():
            for name, (table, columns) in seed.TABLES.items():
                seed.copy_rows(cursor, table, columns, rows.get(name, []))

    with raw.cursor() as cursor:
        if history:
            copy(desk.chunk(1, history + 1))
        already = Case.objects.open().with_content().filter(volunteer__isnull=True).count()
        extra = max(pool - already, 0)
        copy(pool_rows(desk, history + 1, extra, now))
        for table, _ in seed.TABLES.values():
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            highest = f"SELECT coalesce(max(id), 1) FROM {table}"  # noqa: S608 - our names
            cursor.execute(f"SELECT setval({sequence}, ({highest}))")
        cursor.execute("ANALYZE")
    waiting = Case.objects.open().with_content().filter(volunteer__isnull=True).count()
    return {"history_cases": history, "pool_cases": waiting, "volunteers": len(staff)}


def fresh_copy() -> None:
    from django.db import connection

    connection.close()
    admin(
        f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)",
        f"CREATE DATABASE {DATABASE} TEMPLATE {TEMPLATE}",
    )


def loads():
    from django.db.models import Count, Q

    from helpdesk.models import Case, VolunteerProfile

    return VolunteerProfile.objects.annotate(
        open_cases=Count("user__cases", filter=~Q(user__cases__status=Case.Status.CLOSED))
    )


def check() -> dict:
    """What must hold after any drain, counted in the database."""
    from django.db.models import Count, F

    from helpdesk.models import Assignment, Case

    current = Assignment.objects.filter(ended_at__isnull=True)
    return {
        "over_capacity": loads().filter(open_cases__gt=F("capacity")).count(),
        "cases_with_two_current_assignments": current.values("case")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count(),
        "assigned_without_matching_assignment": (
            Case.objects.filter(volunteer__isnull=False).count()
            - current.filter(volunteer_id=F("case__volunteer_id")).count()
        ),
    }


def scenario(name: str, extra_capacity: int) -> dict:
    from django.db import connection
    from django.db.models import F

    from helpdesk import pool
    from helpdesk.models import Assignment, Case, VolunteerProfile

    fresh_copy()
    if extra_capacity:
        VolunteerProfile.objects.update(capacity=F("capacity") + extra_capacity)
    waiting = Case.objects.open().with_content().filter(volunteer__isnull=True)
    before = waiting.count()
    assignments_before = Assignment.objects.count()
    room = sum(max(p.capacity - p.open_cases, 0) for p in loads())
    print(f"  {name}: {before:,} waiting, room for {room:,}", flush=True)
    queries = []

    def counted(execute, sql, params, many, context):
        queries.append(None)  # a count, not the SQL: Django's query log keeps only 9,000
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counted):
        started = time.perf_counter()
        assigned = pool.drain_pool()
        seconds = time.perf_counter() - started
    result = {
        "name": name,
        "waiting_before": before,
        "room_before": room,
        "assigned": assigned,
        "assignments_created": Assignment.objects.count() - assignments_before,
        "waiting_after": waiting.count(),
        "seconds": round(seconds, 2),
        "cases_per_second": round(assigned / seconds, 1) if seconds else None,
        "sql_queries": len(queries),
        "queries_per_assigned_case": round(len(queries) / assigned, 1) if assigned else None,
        **check(),
    }
    verdict = "met" if seconds < TARGET_SECONDS else "missed"
    print(
        f"  {name}: drained in {seconds:.2f} s ({verdict}), {assigned:,} assigned, "
        f"{result['waiting_after']:,} still waiting, {len(queries):,} SQL queries; "
        f"over capacity {result['over_capacity']}, double assignments "
        f"{result['cases_with_two_current_assignments']}",
        flush=True,
    )
    return result


def markdown(result: dict) -> str:
    lines = [
        "# Routing a pool (issue 7: a 10,000-case pool in under 10 s)",
        "",
        f"{result['date']}, commit `{result['commit']}`, {result['cpus']} CPUs; "
        f"PostgreSQL on 127.0.0.1, `helpdesk.pool.drain_pool` in one process. "
        f"{result['volunteers']} volunteers, {result['history_cases']:,} cases of history, "
        f"{result['pool_cases']:,} waiting in the pool.",
        "",
        "| scenario | waiting | room | assigned | still waiting | seconds | cases/s "
        "| SQL | SQL per assigned | over capacity | two current |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in result["scenarios"]:
        lines.append(
            f"| {run['name']} | {run['waiting_before']:,} | {run['room_before']:,} "
            f"| {run['assigned']:,} | {run['waiting_after']:,} | {run['seconds']} "
            f"| {run['cases_per_second']} | {run['sql_queries']:,} "
            f"| {run['queries_per_assigned_case']} | {run['over_capacity']} "
            f"| {run['cases_with_two_current_assignments']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pool", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=20_000)
    args = parser.parse_args()

    os.environ.update(
        {
            **environment.bench_environment(),
            "DATABASE_URL": f"{environment.PG}/{TEMPLATE}",
            "KEYS_DATABASE_URL": f"{environment.PG}/{KEYS}",
            "REDIS_URL": REDIS_URL,
        }
    )
    admin(
        f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)",
        f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)",
        f"DROP DATABASE IF EXISTS {KEYS} WITH (FORCE)",
        f"CREATE DATABASE {TEMPLATE}",
        f"CREATE DATABASE {KEYS}",
    )
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection, connections

    started = time.monotonic()
    desk = seed_template(args.pool, args.history)
    print(
        f"Seeded {desk['volunteers']} volunteers, {desk['history_cases']:,} cases of history "
        f"and a pool of {desk['pool_cases']:,} in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    connection.close()
    connection.settings_dict["NAME"] = DATABASE
    try:
        scenarios = [scenario("crisis", CRISIS_EXTRA_CAPACITY), scenario("seeded", 0)]
    finally:
        connection.close()
        connections["keys"].close()
        admin(
            f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)",
            f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)",
            f"DROP DATABASE IF EXISTS {KEYS} WITH (FORCE)",
        )
        # The notifications routing queued, which no worker will read.
        cache._cache.get_client().flushdb()

    git = ["git", "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, cwd=HERE.parent, capture_output=True, text=True).stdout.strip()  # noqa: S603, S607
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "cpus": os.cpu_count(),
        "target_seconds": TARGET_SECONDS,
        **desk,
        "scenarios": scenarios,
    }
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / "routing.json"
    previous = json.loads(target.read_text()) if target.exists() else None
    target.write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "routing.md").write_text(markdown(result))
    print(f"Wrote {target.relative_to(HERE.parent)} and routing.md")
    if previous:
        before = {run["name"]: run for run in previous["scenarios"]}
        for run in scenarios:
            old = before.get(run["name"])
            if old:
                print(
                    f"  {run['name']}: {old['seconds']} s -> {run['seconds']} s, "
                    f"SQL {old['sql_queries']:,} -> {run['sql_queries']:,}"
                )
    failed = [run["name"] for run in scenarios if run["over_capacity"]]
    failed += [run["name"] for run in scenarios if run["cases_with_two_current_assignments"]]
    if failed:
        raise SystemExit(f"Routing broke capacity or assigned twice in: {', '.join(failed)}")


if __name__ == "__main__":
    main()
