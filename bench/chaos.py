"""`make chaos` (issue 7): submissions while the services fail, then count what survived.

Starts a private PostgreSQL cluster (`haven_chaos`, port 5439) and a private Redis (port
6389), never the shared ones on 5432 and 6379, and serves Haven on them as production
does: gunicorn (the project's gunicorn.conf.py, 2 sync workers, DEBUG=false), a Celery
worker and beat (bench/chaos_settings.py: production settings with a 15 s redelivery,
a 10 s sweep and email into files). Then N people submit concerns concurrently, in
eight languages, while:

1. Redis is shut down without saving (queued tasks and the cache are lost) and started
   again a few seconds later;
2. a worker process is killed with SIGKILL in the middle of tasks (the worker replaces
   it), then the whole worker is killed with SIGKILL and a new one started;
3. PostgreSQL is stopped and started again.

A person refused while something is down waits and sends the form again, as the calm
page asks. Afterwards, once the queue is empty and nothing waits for routing, it checks:
every case shown a receipt exists (looked up by the receipt's keyed hash) and is routed
exactly once, nobody is over capacity, no task ran twice to any visible effect
(assignments, notification emails, access-log rows, referral events), and every refusal
was the calm page with the text kept. The counts are printed and written to
bench/results/chaos.md and .json (no receipt, no content). The services are torn down
afterwards, also when the run fails. Exit status 1 if an invariant broke.

    python bench/chaos.py [--submissions 1000] [--clients 8] [--seconds 30] [--keep]
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_string
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import environment, seed  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = ROOT / ".venv" / "bin"
RESULTS = HERE / "results"
CLUSTER = "haven_chaos"
PG_PORT = 5439
REDIS_PORT = 6389
WEB_PORT = 8791
DATABASE = "haven_chaos"
CAPACITY = 2  # per volunteer: the desk fills up, so routing races for the last slots
REDIS_DOWN_SECONDS = 6
PG_DOWN_SECONDS = 5
SETTLE_SECONDS = 180
REQUEST_TIMEOUT = 30
ATTEMPTS = 8

# What people write, per language of the page (the text gets a number, so a form given
# back can be recognised as the one typed).
TEXTS = {
    "en": ["They found my messages and I cannot go home tonight.", "My friend was outed at work."],
    "nl": ["Mijn familie heeft mijn berichten gelezen.", "Ik durf niet meer naar huis."],
    "fr": ["Ma famille a découvert qui je suis.", "Un ami a été menacé par ses voisins."],
    "ar": ["عائلتي عرفت عني ولا أستطيع العودة إلى البيت.", "صديقي مهدد في عمله."],
    "fa": ["خانواده‌ام پیام‌هایم را دیدند.", "دوستم در خطر است و نمی‌داند کجا برود."],
    "ru": ["Мои родные прочитали мои сообщения.", "Моему другу угрожают соседи."],
    "es": ["Mi familia descubrió quién soy.", "Amenazan a mi amiga en el trabajo."],
    "tr": ["Ailem mesajlarımı okudu.", "Arkadaşım işinde tehdit ediliyor."],
}
PAGE_LANGUAGES = [("ar", 26), ("fa", 18), ("ru", 12), ("en", 14), ("fr", 10), ("tr", 7)]
PAGE_LANGUAGES += [("nl", 8), ("es", 5)]
RECEIPT = re.compile(r'id="receipt-code"[^>]*\svalue="([0-9A-Z-]{20,30})"')
HTML_LANG = re.compile(r"<html[^>]*\slang=\"([a-z-]+)\"")


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def run(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=check)  # noqa: S603


# --- the private services ------------------------------------------------------------


class Services:
    """The private PostgreSQL cluster, Redis and Haven's processes; `close` tears all of
    them down, whatever state they are in."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.version = sorted(os.listdir("/etc/postgresql"))[-1]
        self.mail = workdir / "mail"
        self.mail.mkdir()
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: list[Path] = []
        self.env = {
            **environment.bench_environment(),
            "DJANGO_SETTINGS_MODULE": "bench.chaos_settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PG_PORT}/{DATABASE}",
            "KEYS_DATABASE_URL": f"postgres://postgres@127.0.0.1:{PG_PORT}/{DATABASE}_keys",
            "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
            "CHAOS_MAIL_DIR": str(self.mail),
            "ALLOWED_HOSTS": "127.0.0.1",
        }

    # PostgreSQL
    def pg(self, action: str, *options: str) -> None:
        run("pg_ctlcluster", "--skip-systemctl-redirect", self.version, CLUSTER, action, *options)

    def pg_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (
                run(
                    "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(PG_PORT), check=False
                ).returncode
                == 0
            ):
                return
            time.sleep(0.2)
        raise SystemExit("the private PostgreSQL did not come up")

    def drop_cluster(self) -> None:
        if Path(f"/etc/postgresql/{self.version}/{CLUSTER}").exists():
            run("pg_dropcluster", "--stop", self.version, CLUSTER, check=False)

    def start_postgres(self) -> None:
        self.drop_cluster()  # a run that was killed may have left one
        run(
            "pg_createcluster", self.version, CLUSTER, "-p", str(PG_PORT),
            "--start-conf", "manual", "--", "--auth-local=trust", "--auth-host=trust",
        )  # fmt: skip
        self.pg("start")
        self.pg_ready()
        for name in (DATABASE, f"{DATABASE}_keys"):  # the main database and the key store
            run("psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-qc",
                f"CREATE DATABASE {name}")  # fmt: skip

    # Redis
    def start_redis(self) -> None:
        run(
            "redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "yes",
            "--dir", str(self.workdir), "--pidfile", str(self.workdir / "redis.pid"),
            "--logfile", str(self.workdir / "redis.log"),
        )  # fmt: skip
        for _ in range(100):
            if self.redis("ping", check=False).stdout.strip() == "PONG":
                return
            time.sleep(0.1)
        raise SystemExit("the private Redis did not come up")

    def redis(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        return run("redis-cli", "-p", str(REDIS_PORT), *command, check=check)

    def stop_redis(self) -> None:
        self.redis("shutdown", "nosave", check=False)
        for _ in range(50):
            if self.redis("ping", check=False).returncode != 0:
                return
            time.sleep(0.1)

    # Haven's processes
    def spawn(self, name: str, *command: str) -> subprocess.Popen:
        path = self.workdir / f"{name}.log"
        self.logs.append(path)
        with path.open("a") as output:
            process = subprocess.Popen(  # noqa: S603
                command, cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.processes[name] = process
        return process

    def start_web(self) -> None:
        self.spawn(
            "gunicorn", str(BIN / "gunicorn"), "helpdesk.wsgi",
            "--config", str(ROOT / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{WEB_PORT}", "--workers", "2", "--log-level", "warning",
        )  # fmt: skip
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{base_url()}/write/", timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not answer")

    def start_worker(self, n: int) -> subprocess.Popen:
        return self.spawn(
            f"worker{n}", str(BIN / "celery"), "-A", "helpdesk", "worker",
            "--concurrency=2", "--loglevel=WARNING", "-n", f"chaos{n}@%h",
            "--without-gossip", "--without-mingle",
        )  # fmt: skip

    def start_beat(self) -> None:
        self.spawn(
            "beat", str(BIN / "celery"), "-A", "helpdesk", "beat", "--loglevel=WARNING",
            "--schedule", str(self.workdir / "beat-schedule"),
        )  # fmt: skip

    def kill(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def close(self) -> None:
        for name in list(self.processes):
            self.kill(name)
        self.stop_redis()
        self.drop_cluster()


def base_url() -> str:
    return f"http://127.0.0.1:{WEB_PORT}"


def children(pid: int) -> list[int]:
    out = run("ps", "-o", "pid=", "--ppid", str(pid), check=False).stdout
    return [int(child) for child in out.split()]


# --- the people ----------------------------------------------------------------------


class FormParser(HTMLParser):
    """The concern form's inputs as a page shows them: hidden values, radio choices,
    the text areas' content."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.choices: dict[str, list[str]] = {}
        self.textareas: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            if attrs.get("type") == "radio":
                self.choices.setdefault(name, []).append(attrs.get("value", ""))
            elif attrs.get("type") in {"hidden", "text"}:
                self.values[name] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.textareas[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.textareas[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None


def parse_form(page: str) -> FormParser:
    parser = FormParser()
    parser.feed(page)
    return parser


@dataclass
class Submission:
    n: int
    language: str
    description: str = ""
    submission_key: str = ""
    receipt: str | None = None
    attempts: list[str] = field(default_factory=list)  # what each try got, in order
    posts: list[tuple[float, float]] = field(default_factory=list)  # (sent at, seconds)
    refusals: int = 0
    calm_refusals: int = 0  # 503, in the person's language, the typed text given back
    other_failures: int = 0
    duplicate_page: bool = False


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # Browser.request follows them itself, with its cookies


NO_REDIRECTS = urllib.request.build_opener(_KeepRedirects)


class Browser:
    """One person's browser: cookies by hand (production marks them Secure, and this
    plain-HTTP run still has to send them, as the TLS proxy's clients would)."""

    def __init__(self, language: str) -> None:
        self.cookies: dict[str, str] = {}
        self.language = language

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        headers = {"Accept-Language": self.language, "User-Agent": "haven-chaos"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        url = f"{base_url()}{path}"
        request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - local
        try:
            response = NO_REDIRECTS.open(request, timeout=REQUEST_TIMEOUT)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            location = response.headers.get("Location")
            status, page = response.status, response.read().decode("utf-8", "replace")
        if status in (301, 302, 303) and location:
            # As a browser does, with the cookies the redirect set: the receipt is shown
            # by the page a submission redirects to.
            return self.request(urllib.parse.urlsplit(location).path)
        return status, page


def submit(n: int, rng: random.Random, progress: Progress, arrives: float) -> Submission:
    time.sleep(max(arrives - time.monotonic(), 0))
    codes, weights = zip(*PAGE_LANGUAGES, strict=True)
    language = rng.choices(codes, weights)[0]
    person = Submission(n=n, language=language)
    browser = Browser(language)
    form = None
    for _ in range(ATTEMPTS):
        try:
            status, page = browser.request("/write/")
        except OSError:
            status, page = 0, ""
        if status == 200:
            form = parse_form(page)
            break
        person.attempts.append(f"GET {status}")
        time.sleep(rng.uniform(1, 3))
    if form is None:
        progress.done()
        return person
    person.submission_key = form.values.get("submission_key", "")
    person.description = f"{rng.choice(TEXTS[language])} ({n})"
    data = {
        "csrfmiddlewaretoken": form.values.get("csrfmiddlewaretoken", ""),
        "submission_key": person.submission_key,
        "for_whom": rng.choice(("self", "self", "self", "other")),
        "need": rng.choice(form.choices["need"]),
        "country": rng.choice([code for code, _ in seed.COUNTRIES]),
        "language_1": language,
        "language_2": "en" if language != "en" and rng.random() < 0.6 else "",
        "language_3": "",
        "in_danger": "yes" if rng.random() < 0.08 else "no",
        "description": person.description,
        "contact_channel": "none",
        "consent": "on",
    }
    for _ in range(ATTEMPTS):
        sent = time.monotonic()
        try:
            status, page = browser.request("/write/", data)
        except OSError as error:
            status, page = 0, type(error).__name__
        person.posts.append((sent, time.monotonic() - sent))
        person.attempts.append(str(status))
        if status == 200 and (found := RECEIPT.search(page)):
            person.receipt = found.group(1)
            break
        if status == 409:
            person.duplicate_page = True
            break
        person.refusals += 1
        if status == 503:
            kept = parse_form(page)
            lang = HTML_LANG.search(page)
            if (
                html.unescape(kept.textareas.get("description", "")).strip() == person.description
                and lang
                and lang.group(1) == language
            ):
                person.calm_refusals += 1
            # Send the form as it came back: a fresh CSRF token if the page has one.
            data["csrfmiddlewaretoken"] = kept.values.get(
                "csrfmiddlewaretoken", data["csrfmiddlewaretoken"]
            )
        else:
            person.other_failures += 1
        time.sleep(rng.uniform(1, 3))  # "try again in a minute", impatiently
    progress.done()
    return person


class Progress:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def done(self) -> None:
        with self.lock:
            self.count += 1


# --- the faults ----------------------------------------------------------------------


def busy(services: Services, timeout: float = 2) -> int:
    """Wait (a little) until the worker holds tasks, so a kill lands in the middle of
    them; returns how many it holds (prefetch is 1 per process, acknowledged late)."""
    deadline = time.monotonic() + timeout
    held = 0
    while time.monotonic() < deadline:
        held = int(services.redis("hlen", "unacked", check=False).stdout.strip() or 0)
        if held:
            break
        time.sleep(0.05)
    return held


def faults(
    services: Services,
    progress: Progress,
    events: list[dict],
    seconds: float,
    outages: dict[str, list[float]],
) -> None:
    """The faults, at fixed shares of the arrival period, so that runs of any size meet
    every one of them while people are still submitting."""
    started = time.monotonic()

    def at(share: float) -> None:
        time.sleep(max(started + share * seconds - time.monotonic(), 0))

    def note(what: str, **facts) -> None:
        moment = round(time.monotonic() - started, 1)
        events.append({"at_submissions": progress.count, "at_s": moment, "what": what, **facts})
        outages.setdefault(what.split()[0], []).append(time.monotonic())
        log(f"{what} {facts or ''} after {progress.count} submissions")

    at(0.15)
    note("Redis shut down without saving")
    services.stop_redis()
    time.sleep(REDIS_DOWN_SECONDS)
    services.start_redis()
    note("Redis started again, empty")
    time.sleep(5)  # the worker reconnects (it retries after 2, 4, 6... s)

    at(0.4)
    worker = services.processes["worker1"]
    in_flight = busy(services)
    pool = children(worker.pid)
    if pool:
        os.kill(pool[0], signal.SIGKILL)
    note("SIGKILL to one worker process", tasks_in_flight=in_flight)
    time.sleep(3)
    if worker.poll() is not None:
        # A supervisor (docker-compose's restart policy) would start it again.
        note("the worker exited after losing a process; a new one is started")
        services.processes.pop("worker1")
        services.start_worker(1)

    at(0.55)
    in_flight = busy(services)
    name = next(name for name in services.processes if name.startswith("worker"))
    services.kill(name, signal.SIGKILL)
    note("SIGKILL to the whole worker", tasks_in_flight=in_flight)
    services.start_worker(2)
    note("new worker started")

    at(0.7)
    note("PostgreSQL stopped")
    services.pg("stop", "-m", "fast")
    time.sleep(PG_DOWN_SECONDS)
    services.pg("start")
    services.pg_ready()
    note("PostgreSQL started again")


# --- afterwards ----------------------------------------------------------------------


def settle(services: Services) -> float:
    """Wait until nothing is queued, nothing in flight, no case waits for routing and
    every notice is sent, three checks in a row (the beat sweep runs every 10 s); returns
    the seconds waited."""
    from django.db import connection

    from helpdesk.models import Assignment, Case

    started = time.monotonic()
    calm = 0
    while calm < 3 and time.monotonic() - started < SETTLE_SECONDS:
        time.sleep(2)
        queued = services.redis("llen", "celery", check=False).stdout.strip()
        in_flight = services.redis("hlen", "unacked", check=False).stdout.strip()
        try:
            waiting = Case.objects.awaiting_routing().count()
            untold = Assignment.objects.filter(ended_at__isnull=True, notified_at__isnull=True)
            untold = (
                untold.count()
                + Case.objects.open()
                .filter(volunteer__isnull=True, pool_notified_at__isnull=True)
                .count()
            )
        except Exception:  # noqa: BLE001 - the connection from before the restart
            connection.close()
            continue
        calm = calm + 1 if (queued, in_flight, waiting, untold) == ("0", "0", 0, 0) else 0
    return round(time.monotonic() - started, 1)


def sent_mail(directory: Path) -> list[tuple[str, str]]:
    """(recipient, subject) of every email the desk sent."""
    sent = []
    for path in directory.glob("*"):
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                message = message_from_string(chunk.strip())
                sent.append((message["To"], " ".join(message["Subject"].split())))
    return sent


def statuses(people: list[Submission]) -> Counter:
    return Counter(attempt for person in people for attempt in person.attempts)


def p95_ms(durations: list[float]) -> int | None:
    if not durations:
        return None
    ordered = sorted(durations)
    return round(1000 * ordered[min(int(0.95 * len(ordered)), len(ordered) - 1)])


def latencies(people: list[Submission], outages: dict[str, tuple[float, float]]) -> dict:
    """p50/p95 of the form's POST, overall and while each service was down."""
    posts = [post for person in people for post in person.posts]
    result = {
        "post_p50_ms": round(1000 * sorted(d for _, d in posts)[len(posts) // 2]),
        "post_p95_ms": p95_ms([d for _, d in posts]),
    }
    for name, (start, end) in outages.items():
        result[f"post_p95_ms_while_{name}_down"] = p95_ms(
            [d for sent, d in posts if start <= sent < end]
        )
    return result


def check(people: list[Submission], services: Services) -> dict:
    from django.db.models import Count, F, Q

    from helpdesk.models import AccessLogEntry, Assignment, Case, ReferralEvent, VolunteerProfile
    from intake.receipts import normalize, receipt_hash

    receipted = [person for person in people if person.receipt]
    hashes = {receipt_hash(normalize(person.receipt)) for person in receipted}
    found = Case.objects.filter(receipt_hash__in=hashes)
    found_ids = list(found.values_list("pk", flat=True))
    assignments = Counter(
        Assignment.objects.filter(case_id__in=found_ids).values_list("case_id", flat=True)
    )
    current = Assignment.objects.filter(ended_at__isnull=True)
    loads = VolunteerProfile.objects.annotate(
        open_cases=Count("user__cases", filter=~Q(user__cases__status=Case.Status.CLOSED))
    )
    keys_receipted = {person.submission_key for person in receipted}
    refused = [person for person in people if person.refusals]
    refused_keys = {person.submission_key for person in refused} - keys_receipted
    mail = sent_mail(services.mail)
    mail_counts = Counter(mail)
    assigned = found.filter(volunteer__isnull=False)
    told = {
        word
        for _, subject in mail
        if "pool" in subject or "waits" in subject
        for word in subject.split()
    }
    notified = {(email, subject) for email, subject in mail if subject.endswith(" is now yours")}
    return {
        "submissions": len(people),
        "shown_a_receipt": len(receipted),
        "never_got_the_form": sum(1 for p in people if not p.submission_key),
        "gave_up_without_receipt": sum(
            1 for p in people if p.submission_key and not p.receipt and not p.duplicate_page
        ),
        "receipted_cases_found": len(found_ids),
        "receipted_cases_missing": len(receipted) - len(found_ids),
        "cases_in_database": Case.objects.count(),
        "assigned": assigned.count(),
        "in_pool": found.filter(volunteer__isnull=True, needs_routing=False).count(),
        "never_routed": found.filter(needs_routing=True).count(),
        "routed_more_than_once": sum(1 for n in assignments.values() if n > 1),
        "cases_with_two_current_assignments": current.values("case")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count(),
        "case_volunteer_differs_from_assignment": assigned.count()
        - current.filter(case_id__in=found_ids, volunteer_id=F("case__volunteer_id")).count(),
        "volunteers_over_capacity": loads.filter(open_cases__gt=F("capacity")).count(),
        "notification_emails": len(mail),
        "duplicate_emails": sum(n - 1 for n in mail_counts.values() if n > 1),
        "assignments_without_email": max(assigned.count() - len(notified), 0),
        "pool_cases_without_email": found.filter(volunteer__isnull=True)
        .exclude(reference__in=told)
        .count(),
        "duplicate_access_log_rows": AccessLogEntry.objects.values("case", "user", "action", "at")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count(),
        "duplicate_referral_events": ReferralEvent.objects.values("referral", "status", "at")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count(),
        "people_refused_at_least_once": len(refused),
        **{f"answers_{status}": n for status, n in sorted(statuses(people).items())},
        "refusals": sum(p.refusals for p in people),
        "calm_refusals": sum(p.calm_refusals for p in people),
        "other_failures": sum(p.other_failures for p in people),
        "refused_then_receipted": sum(1 for p in refused if p.receipt),
        "refused_never_receipted_but_case_exists": Case.objects.filter(
            submission_key__in=refused_keys
        ).count(),
        "duplicate_page_after_a_refusal": sum(1 for p in people if p.duplicate_page),
    }


BROKEN_IF_ABOVE_ZERO = (
    "receipted_cases_missing",
    "never_routed",
    "routed_more_than_once",
    "cases_with_two_current_assignments",
    "case_volunteer_differs_from_assignment",
    "volunteers_over_capacity",
    "duplicate_emails",
    "assignments_without_email",
    "pool_cases_without_email",
    "duplicate_access_log_rows",
    "duplicate_referral_events",
    "other_failures",
    "refused_never_receipted_but_case_exists",
)


def error_lines(paths: list[Path]) -> dict[str, int]:
    """How many tracebacks and errors each process logged (their text stays on disk)."""
    counts = {}
    for path in paths:
        text = path.read_text(errors="replace") if path.exists() else ""
        counts[path.stem] = sum(
            1 for line in text.splitlines() if "Traceback" in line or " ERROR" in line
        )
    return counts


def label(name: str) -> str:
    """post_p95_ms_while_redis_down -> p95 while redis down"""
    return name.removeprefix("post_").removesuffix("_ms").replace("_ms_", " ").replace("_", " ")


def markdown(result: dict) -> str:
    counts = result["counts"]
    lines = [
        "# Chaos run (issue 7)",
        "",
        f"{result['date']}, commit `{result['commit']}`, {result['cpus']} CPUs. "
        f"{result['submissions']:,} submissions from {result['clients']} concurrent people "
        f"in 8 languages against gunicorn (2 workers), a Celery worker and beat, on a private "
        f"PostgreSQL {result['postgres']} and Redis; load took {result['load_seconds']} s, "
        f"settling {result['settle_seconds']} s.",
        "",
        "## Faults",
        "",
        *(
            f"- at {e['at_s']} s, after {e['at_submissions']:,} submissions: {e['what']}"
            + (f" ({e['tasks_in_flight']} tasks in flight)" if "tasks_in_flight" in e else "")
            for e in result["faults"]
        ),
        "",
        "## Counts",
        "",
        "| what | count | |",
        "|---|---:|---|",
        *(
            f"| {name.replace('_', ' ')} | {value:,} | "
            f"{'**broken**' if name in BROKEN_IF_ABOVE_ZERO and value else ''} |"
            for name, value in counts.items()
        ),
        "",
        "The form's POST, in ms: "
        + ", ".join(f"{label(name)} {ms}" for name, ms in result["latency"].items())
        + ".",
        "",
        "Errors logged per process (tracebacks or ERROR lines): "
        + ", ".join(f"{name} {n}" for name, n in result["errors_logged"].items()),
        "",
        f"**Broken: {', '.join(result['broken'])}**"
        if result["broken"]
        else "**All invariants held.**",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30, help="spread arrivals over this")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the run's logs")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where chaos.md goes")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("make chaos creates its own PostgreSQL cluster: run it as root")

    # A run stopped with SIGTERM (CI's timeout) still tears its services down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="haven-chaos-"))
    services = Services(workdir)
    os.environ.update(services.env)
    try:
        log(f"private PostgreSQL {services.version} on {PG_PORT}, Redis on {REDIS_PORT}")
        services.start_postgres()
        services.start_redis()
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from helpdesk.models import VolunteerProfile
        from resources.loader import load_resources

        environment.migrate()
        call_command("collectstatic", verbosity=0, interactive=False)
        load_resources()
        seed.make_staff(random.Random(args.seed))
        VolunteerProfile.objects.update(capacity=CAPACITY)
        connection.close()
        log("migrated, library loaded, 200 volunteers and a coordinator")
        services.start_web()
        services.start_worker(1)
        services.start_beat()
        log(f"serving on {base_url()}; {args.submissions} submissions begin")

        progress = Progress()
        events: list[dict] = []
        moments: dict[str, list[float]] = {}  # when Redis and PostgreSQL stopped, started
        chaos = threading.Thread(
            target=faults, args=(services, progress, events, args.seconds, moments), daemon=True
        )
        chaos.start()
        started = time.monotonic()
        rngs = [random.Random(args.seed * 100_003 + n) for n in range(args.submissions)]
        # People arrive spread over at least --seconds, so that a small run still has
        # submissions in flight during every fault.
        gap = args.seconds / args.submissions

        def person(n: int) -> Submission:
            return submit(n, rngs[n], progress, started + n * gap)

        with ThreadPoolExecutor(args.clients) as pool:
            people = list(pool.map(person, range(args.submissions)))
        load_seconds = round(time.monotonic() - started, 1)
        chaos.join(timeout=120)
        log(f"load done in {load_seconds} s; waiting for the queue and the sweep")
        settle_seconds = settle(services)
        counts = check(people, services)
        windows = {
            {"Redis": "redis", "PostgreSQL": "postgres"}[name]: (times[0], times[1])
            for name, times in moments.items()
            if name in {"Redis", "PostgreSQL"} and len(times) == 2
        }
        timings = latencies(people, windows)
        errors = error_lines(services.logs)
    finally:
        from django.db import connections

        connections.close_all()
        services.close()
        log("private services torn down")
    broken = [name for name in BROKEN_IF_ABOVE_ZERO if counts[name]]
    git = ["git", "rev-parse", "--short", "HEAD"]
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": subprocess.run(git, cwd=ROOT, capture_output=True, text=True).stdout.strip(),  # noqa: S603, S607
        "cpus": os.cpu_count(),
        "postgres": services.version,
        "submissions": args.submissions,
        "clients": args.clients,
        "load_seconds": load_seconds,
        "settle_seconds": settle_seconds,
        "faults": events,
        "counts": counts,
        "latency": timings,
        "errors_logged": errors,
        "broken": broken,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "chaos.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.results / "chaos.md").write_text(markdown(result))
    print()
    print(markdown(result))
    if args.keep:
        print(f"Logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    if broken:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
