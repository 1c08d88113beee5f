"""Hostile input at volume against a running server (issue 7, item 4; issue 12, item 7):
concern-form posts (valid, nearly valid and hostile), receipt look-ups and inbox posts
with real sessions, and on the staff side, signed in as a coordinator and a volunteer
(password and TOTP, as people sign in): ids beyond 64 bits in paths, queries and forms,
NUL characters in admin list filters, and staff accounts made in the admin.

Every answer is checked: never a 5xx; a refused form names each problem next to its field
(inside the field's group and referenced by aria-describedby) and keeps what was typed;
text sent back is escaped; a receipt shown always opens its case, whatever else came from
the same address; past 10 wrong codes an address's look-ups wait. After the run the
database is checked: no half-stored case, no message without its case, exactly one case
per receipt shown, every accepted answer stored, every staff account with its profile.

    python bench/fuzz.py [--requests 10000] [--seed 7] [--clients 4] [--port 8766]
    python bench/fuzz.py --embedded         # the embedded default: SQLite, no Redis, DEBUG
    python bench/fuzz.py --url http://127.0.0.1:8000 --database haven_x   # a running server

Without --url it makes the PostgreSQL database `haven_fuzz` anew (127.0.0.1:5432), uses
Redis db 10, and serves Haven with gunicorn (2 sync workers, production settings, 127.0.0.1
only) behind a pretend proxy: every visitor has an address of its own in X-Forwarded-For,
as Caddy would send it, so the receipt throttle counts per visitor as in production. No
Celery worker runs: routing tasks wait in Redis, which is outside this test.

With --embedded it serves the embedded default instead, as `make run` has it (no
DATABASE_URL, no REDIS_URL: SQLite, the database cache, Celery eager, DEBUG), in a fresh
var directory of its own (var/fuzz-embedded/), with the same gunicorn and pretend proxy.
Its results are written to bench/results/fuzz-embedded.json and .md.

With --url the server's own settings and rate counters apply, and the staff side is left
out (its accounts are made in the database the fuzzer serves).

`make fuzz FUZZ_ARGS="--requests 500"` is the size for CI: about 25 s with the set-up.

A visitor's requests follow from --seed and its number alone (receipts come from the
server, and the interleaving of four clients varies). Results: bench/results/fuzz.json and
.md for a run of 10,000 or more (or with --write); the exit status is 1 on any violation.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import http.client
import itertools
import json
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from http.cookies import CookieError, SimpleCookie
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import environment  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DATABASE = "haven_fuzz"
REDIS_DB = 10
MAX_CHARS = 10_000  # settings.MESSAGE_MAX_CHARS
UPLOAD_LIMIT = 256 * 1024  # settings.DATA_UPLOAD_MAX_MEMORY_SIZE
THROTTLE_AFTER = 10  # settings.RECEIPT_FAILURES_PER_ADDRESS: later look-ups wait
FIRST_WAIT = 0.25  # intake.throttle.FIRST_DELAY_SECONDS
RTL_LANGUAGES = {"ar", "fa", "he", "ur"}  # settings.LANGUAGES_BIDI
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # intake.receipts.ALPHABET
RECEIPT_IN_TEXT = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")
EXAMPLES_PER_KIND = 5
SERVER_LOG = ROOT / "var" / "fuzz-server.log"
EMBEDDED_VAR = ROOT / "var" / "fuzz-embedded"
BEYOND_64_BITS = ["99999999999999999999", "9223372036854775808", "1" + "0" * 40, "-" + "9" * 25]
STAFF_PASSWORD = "fuzz staff password, never used anywhere else"  # noqa: S105


# --- the environment and the server ------------------------------------------------------


def fuzz_environment(database: str, port: int) -> dict[str, str]:
    return {
        **environment.bench_environment(),
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DATABASE_URL": f"{environment.PG}/{database}",
        "KEYS_DATABASE_URL": f"{environment.PG}/{database}_keys",
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "SITE_URL": f"https://127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1",
        # As behind docker-compose's Caddy: the visitor's address is the last hop.
        "TRUSTED_PROXY_COUNT": "1",
    }


def embedded_environment(port: int) -> dict[str, str]:
    """The embedded default: none of production's variables, a var directory of its own."""
    haven = {
        "DATABASE_URL", "KEYS_DATABASE_URL", "REDIS_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEY",
        "SITE_URL", "ALLOWED_HOSTS", "DEBUG", "CELERY_EAGER", "HAVEN_TEST_SERVICES",
        "EMAIL_BACKEND",
    }  # fmt: skip
    return {
        **{key: value for key, value in os.environ.items() if key not in haven},
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "HAVEN_VAR_DIR": str(EMBEDDED_VAR),
        "TRUSTED_PROXY_COUNT": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def recreate_database(database: str) -> None:
    import psycopg

    with psycopg.connect(f"{environment.PG}/postgres", autocommit=True) as conn:
        for name in (database, f"{database}_keys"):  # the main database and the key store
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")


def prepare_database() -> None:
    from django.core.management import call_command

    from resources.loader import load_resources

    environment.migrate()
    call_command("createcachetable", verbosity=0)  # the embedded default's cache
    call_command("collectstatic", verbosity=0, interactive=False)
    load_resources()


def make_staff_accounts() -> dict[str, tuple[int, str]]:
    """A coordinator and a volunteer with TOTP, made as every account is; returns each
    one's id and TOTP secret (held in this process only)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from helpdesk.models import User
    from helpdesk.roles import Role
    from resources.models import Language, Need

    accounts = {}
    for role in (Role.COORDINATOR, Role.VOLUNTEER):
        user = User.objects.create_user(f"fuzz-{role}@fuzz.test", STAFF_PASSWORD, role=role)
        user.profile.languages.set(Language.objects.all())
        user.profile.needs.set(Need.objects.all())
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
        accounts[str(role)] = (user.pk, secret)
    return accounts


def start_gunicorn(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    command = environment.gunicorn_command(port)
    # The server's log (warnings and errors; never content or addresses, see
    # helpdesk/logs.py) goes to a file that is searched for tracebacks afterwards.
    with log.open("w") as stderr:
        server = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, start_new_session=True, stderr=stderr
        )
    for _ in range(150):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer on 127.0.0.1")


# --- reading pages -------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip
CONTROLS = {"input", "select", "textarea"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None
    children: list[Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def all_text(self) -> str:
        return "".join(self.text) + "".join(child.all_text() for child in self.children)


class Tree(HTMLParser):
    """Just enough of an HTML tree: elements, attributes, parents and text."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {}, None)
        self.current = self.root
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs) -> None:
        self.current.children.append(Element(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag) -> None:
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data) -> None:
        self.current.text.append(data)


def parse(page: str) -> Element:
    return Tree(page).root


def misplaced_errors(root: Element, *, refused: bool = True) -> list[str]:
    """What is wrong with how a refused form shows its errors; empty when every error
    message sits in its field's group, the field (or its fieldset) points at it with
    aria-describedby, and the summary at the top is backed by at least one such note."""
    problems = []
    ids = {node.attrs["id"] for node in root.walk() if "id" in node.attrs}
    field_errors = [node for node in root.walk() if node.tag == "ul" and "errors" in node.classes]
    for errors in field_errors:
        error_id = errors.attrs.get("id", "")
        # "<the field's id>_error": the field's id is "id_<name>" unless the form gives
        # its fields ids of their own (two forms on one page).
        field_id = re.fullmatch(r"(.+)_errors?", error_id)
        if not field_id:
            problems.append("a list of errors without the id of its field")
            continue
        field_id = field_id.group(1)
        name = field_id.removeprefix("id_")
        if not [item for item in errors.children if item.all_text().strip()]:
            problems.append(f"{name}: an empty list of errors")
        group = next((node for node in errors.ancestors() if "field" in node.classes), None)
        if group is None:
            problems.append(f"{name}: errors outside any field group")
            continue
        controls = [
            node
            for node in group.walk()
            if node.tag in CONTROLS
            and (node.attrs.get("id") == field_id or node.attrs.get("name") == name)
            and node.attrs.get("type") != "hidden"
        ]
        if not controls:
            problems.append(f"{name}: errors in a group without the field")
            continue
        described = [group, *controls]
        references = {
            ref for node in described for ref in node.attrs.get("aria-describedby", "").split()
        }
        if error_id not in references:
            problems.append(f"{name}: errors not referenced by aria-describedby")
        for node in controls:
            for ref in node.attrs.get("aria-describedby", "").split():
                if ref not in ids:
                    problems.append(f"{name}: aria-describedby names a missing id")
    summaries = [node for node in root.walk() if {"errors", "errors--form"} <= node.classes]
    linked = any(
        node.tag == "a" and node.attrs.get("href", "").startswith("#")
        for summary in summaries
        for node in summary.walk()
    )
    form = next(
        (node for node in root.walk() if node.tag == "form" and "concern-form" in node.classes),
        None,
    )
    if refused and form is not None and summaries and not field_errors and not linked:
        problems.append("refused, but no field shows why")
    return sorted(set(problems))


def kept(typed: str | bytes | None, shown: str | None) -> bool:
    """Whether a refused page gives back what was typed (line ends aside)."""
    if not isinstance(typed, str) or not typed.strip():
        return True
    return shown is not None and typed.replace("\r", "").strip() in shown.replace("\r", "")


def textarea_value(root: Element, name: str) -> str | None:
    for node in root.walk():
        if node.tag == "textarea" and node.attrs.get("name") == name:
            return node.all_text()
    return None


def hidden_value(page: str, name: str) -> str | None:
    match = re.search(rf'name="{name}" value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)" name="{name}"', page
    )
    return html.unescape(match.group(1)) if match else None


def receipt_on(page: str) -> str | None:
    match = re.search(r'id="receipt-code"[^>]*value="([0-9A-Z-]+)"', page)
    return match.group(1) if match else None


# --- generating input ----------------------------------------------------------------------

RTL = ["مرحبا، أنا لست بأمان في البيت", "سلام، من در خطر هستم", "שלום", "\u202egnp.exe\u202c"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e"]
EMOJI = ["🏳️‍🌈", "🏳️‍⚧️", "👩🏽‍❤️‍👩🏻", "🇺🇬", "😱", "🙏🏿", "\U0001fae0"]
MARKUP = [
    "<script>alert('fuzz')</script>",
    '"><img src=x onerror=alert(1)>',
    "</textarea><b>fuzz</b>",
    "{{ request }}{% debug %}",
    "${7*7} #{7*7} %s%s%n {0.__class__}",
    "javascript:alert(1)",
    "<!--",
    "]]><![CDATA[",
]
SQL = [
    "'; DROP TABLE helpdesk_case; --",
    "' OR '1'='1",
    "1; SELECT pg_sleep(10); --",
    "\\'; COPY helpdesk_case TO '/tmp/x'; --",
    "%' AND 1=0 UNION SELECT receipt_hash FROM helpdesk_case --",
]
CONTROL = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f"]
WHITESPACE = [" ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2028", "\u2029"]
PLAIN = [
    "I am not safe at home since my family found out.",
    "My friend was arrested last week and I do not know what to do.",
    "J'ai peur de rentrer chez moi.",
    "Ik wil asiel aanvragen in België.",
    "Мне угрожают на работе.",
    "Necesito ayuda para salir del país.",
    "Ailem öğrendi, evden çıkamıyorum.",
]
INVALID_UTF8 = [
    b"\xff\xfe",
    b"\xc3\x28",
    b"\x80",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
]
LANGUAGE_HEADERS = [
    "en", "nl-BE,nl;q=0.9", "fr-FR", "ar", "fa-IR,fa;q=0.8,en;q=0.5", "ru", "es-419", "tr",
    "he", "zh-Hant-TW", "*", "", "xx-YY;q=abc", "en;q=0.5, ar;q=1.5", ",,,;;;q=", "ar" * 300,
    "en-US;q=0.9," * 200,
]  # fmt: skip
# Haven's URLs carry no language prefix (the language comes from the browser or the
# switcher), so each of these must be a plain 404.
PREFIXES = ["/nl", "/ar", "/fa", "/en", "/xx", "/zh-hant"]


ODD_PATHS = [
    "/write/%00", "/%ff%fe/", "/follow-up/..%2f..%2fetc%2fpasswd", "/write/" + "a" * 5000,
    "/guide/%D8%A7%D9%84/", "/guide/%3Cscript%3E/", "/guide/asylum-be/friend/%00/",
    "/write/?for=%ff&for=self", "//write/", "/write", "/static/../../manage.py",
    "/desk/cases/%27%20OR%201=1/", "/admin/%00", "/healthz/../write/",
]  # fmt: skip


def zalgo(rng: random.Random) -> str:
    return "".join(
        letter + "".join(chr(rng.randint(0x300, 0x36F)) for _ in range(rng.randint(1, 12)))
        for letter in rng.choice(["help", "HAVEN", "اللغة"])
    )


def hostile_text(rng: random.Random, *, at_most: int = 400) -> str:
    """Readable words mixed with everything that tends to break text handling; never
    empty after control characters and whitespace are dropped."""
    pieces = [rng.choice(PLAIN)]
    for _ in range(rng.randint(0, 6)):
        kind = rng.randrange(8)
        if kind == 0:
            pieces.append(rng.choice(RTL))
        elif kind == 1:
            pieces.append("".join(rng.choices(INVISIBLE, k=rng.randint(1, 5))))
        elif kind == 2:
            pieces.append("".join(rng.choices(EMOJI, k=rng.randint(1, 4))))
        elif kind == 3:
            pieces.append(zalgo(rng))
        elif kind == 4:
            pieces.append(rng.choice(MARKUP))
        elif kind == 5:
            pieces.append(rng.choice(SQL))
        elif kind == 6:
            pieces.append("".join(rng.choices(CONTROL, k=rng.randint(1, 3))))
        else:
            pieces.append("".join(rng.choices(WHITESPACE, k=rng.randint(1, 4))))
    rng.shuffle(pieces)
    return "".join(pieces)[:at_most]


def whitespace_only(rng: random.Random) -> str:
    return "".join(rng.choices(WHITESPACE + [""], k=rng.randint(0, 8)))


@dataclass
class Choices:
    """The form's valid answers, read from the form itself (so --url works anywhere)."""

    needs: list[str]
    countries: list[str]
    languages: list[str]

    @classmethod
    def from_form(cls, page: str) -> Choices:
        root = parse(page)
        values: dict[str, list[str]] = {}
        for node in root.walk():
            if node.tag == "input" and node.attrs.get("type") == "radio":
                values.setdefault(node.attrs["name"], []).append(node.attrs["value"])
            if node.tag == "select":
                options = [o.attrs.get("value", "") for o in node.walk() if o.tag == "option"]
                values[node.attrs["name"]] = [v for v in options if v]
        return cls(values["need"], values["country"], values["language_1"])


@dataclass
class Post:
    """One concern-form post: its fields (a list, so a name may repeat; values may be
    bytes that are not UTF-8), what it tries, and which fields must be refused."""

    fields: list[tuple[str, str | bytes]]
    shape: str
    refused: set[str] = field(default_factory=set)
    may_pass: bool = True  # False: the post must not make a case

    def value(self, name: str) -> str | bytes | None:
        found = [value for key, value in self.fields if key == name]
        return found[-1] if found else None


def valid_concern(rng: random.Random, choices: Choices, key: str) -> dict[str, str]:
    languages = rng.sample(choices.languages, 3)
    channel = rng.choice(["none", "none", "none", "", "email", "signal", "phone", "other"])
    description = hostile_text(rng, at_most=rng.choice([200, 2000]))
    if rng.random() < 0.05:  # exactly at the limit
        description = (description + "a" * MAX_CHARS)[:MAX_CHARS]
    return {
        "for_whom": rng.choice(["self", "other"]),
        "need": rng.choice(choices.needs),
        "country": rng.choice(choices.countries),
        "language_1": languages[0],
        "language_2": rng.choice(["", languages[1], languages[0]]),
        "language_3": rng.choice(["", languages[2]]),
        "in_danger": rng.choice(["no", "no", "yes"]),
        "description": description,
        "contact_channel": channel,
        "contact_details": hostile_text(rng, at_most=300) if channel not in ("none", "") else "",
        "contact_safe_times": rng.choice(["", "evenings", hostile_text(rng, at_most=300)]),
        "contact_code_word": rng.choice(["", "blue bird", "🦜", hostile_text(rng, at_most=100)]),
        "consent": rng.choice(["on", "on", "true", "1", "yes"]),
        "submission_key": key,
    }


CHOICE_FIELDS = ["for_whom", "need", "country", "language_1", "in_danger"]
OPTIONAL_CHOICES = ["language_2", "language_3", "contact_channel"]
REQUIRED = [*CHOICE_FIELDS, "description", "consent"]
TEXT_LIMITS = {"contact_details": 300, "contact_safe_times": 300, "contact_code_word": 100}
# Never one of the choices, whatever the field.
WRONG_CHOICES = [
    "x", "SELF", " self", "-1", "99999999999999999999", "1.5", "[]", "{}", "null", "None",
    "true", "ug", "UG\x00", "\x00", "'; --", "self\u200b", "🏳️‍🌈", "e" * 70,
]  # fmt: skip
# Odd, and perhaps a choice after all: int("٣") is 3, so need=٣ may be a real need.
ODD_VALUES = [*WRONG_CHOICES, "٣", "１", "0", " 1 ", "+1", "1_0", "0x1", ""]


def nearly_valid(rng: random.Random, choices: Choices, key: str) -> Post:
    """A valid concern with one or two known mistakes; the refusal must name each one."""
    data = valid_concern(rng, choices, key)
    refused: set[str] = set()
    shapes = []
    for _ in range(rng.choice([1, 1, 2])):
        mistake = rng.randrange(8)
        if mistake == 0:
            name = rng.choice(REQUIRED)
            data.pop(name, None)
            refused.add(name)
            shapes.append("missing required field")
        elif mistake == 1:
            name = rng.choice(CHOICE_FIELDS + OPTIONAL_CHOICES)
            data[name] = rng.choice(WRONG_CHOICES)
            refused.add(name)
            shapes.append("wrong choice")
        elif mistake == 2:
            data["description"] = whitespace_only(rng)
            refused.add("description")
            shapes.append("blank description")
        elif mistake == 3:
            data["description"] = rng.choice(PLAIN) + "x" * MAX_CHARS
            refused.add("description")
            shapes.append("description too long")
        elif mistake == 4:
            name = rng.choice(list(TEXT_LIMITS))
            data[name] = "z" * (TEXT_LIMITS[name] + rng.randint(1, 5000))
            refused.add(name)
            shapes.append("contact text too long")
        elif mistake == 5:
            data["contact_channel"] = rng.choice(["email", "signal", "phone", "other"])
            data["contact_details"] = whitespace_only(rng)
            refused.discard("contact_channel")  # a wrong channel, if any, is overwritten
            refused.add("contact_details")
            shapes.append("channel without details")
        elif mistake == 6:
            data["consent"] = rng.choice(["", "false", "FALSE", "0", "off", "no"])
            shapes.append("consent odd or not given")
        else:
            # Nothing to expect but the general rule: a refusal must say where.
            data["submission_key"] = secrets.token_urlsafe(rng.randint(49, 200))
            shapes.append("submission key too long")
    # Decided by the final values, as a later mistake may undo an earlier one. A checkbox
    # counts any value but "" and "false" as ticked, even "0" and "off".
    refused.discard("consent")
    if str(data.get("consent", "")).lower() in ("", "false"):
        refused.add("consent")
    if data.get("contact_channel") not in ("email", "signal", "phone", "other"):
        refused.discard("contact_details")  # no channel chosen: no details needed
    shape = "nearly valid: " + " + ".join(sorted(set(shapes)))
    return Post(list(data.items()), shape, refused, may_pass=not refused)


def hostile_post(rng: random.Random, choices: Choices, key: str) -> Post:
    """Anything goes; only the general rules are checked."""
    data = list(valid_concern(rng, choices, key).items())
    kind = rng.randrange(9)
    if kind == 0:
        # The last of repeated fields wins; the first ones must not sneak in.
        data += [(name, rng.choice(ODD_VALUES)) for name, _ in rng.sample(data, 3)]
        rng.shuffle(data)
        return Post(data, "repeated fields", may_pass=True)
    if kind == 1:
        name = rng.choice([n for n, _ in data])
        raw = rng.choice(PLAIN).encode() + rng.choice(INVALID_UTF8) + "🏳️‍🌈".encode()[:3]
        data = [(n, raw if n == name else v) for n, v in data]
        return Post(data, "invalid UTF-8", may_pass=True)
    if kind == 2:
        extra = [
            ("status", "closed"), ("volunteer", "1"), ("receipt_hash", "0" * 64), ("urgent", "1"),
            ("id", "1"), ("reference", "AAAA"), ("csrfmiddlewaretoken2", "x"), ("need[]", "1"),
            ("description\x00", "x"), ("наш", "💥"), ("", "empty name"),
        ]  # fmt: skip
        data += rng.sample(extra, rng.randint(1, len(extra)))
        return Post(data, "extra fields", may_pass=True)
    if kind == 3:
        data = [(n, v) for n, v in data if rng.random() < 0.5]
        return Post(data, "random fields missing", may_pass=True)
    if kind == 4:
        names = [n for n, _ in data if n != "submission_key"]
        data = [
            (n, rng.choice(ODD_VALUES) if n in names and rng.random() < 0.4 else v) for n, v in data
        ]
        return Post(data, "wrong types", may_pass=True)
    if kind == 5:
        text = "".join(rng.choices(CONTROL + WHITESPACE + INVISIBLE, k=rng.randint(1, 40)))
        data = [(n, text if n == "description" else v) for n, v in data]
        return Post(data, "description of control and invisible characters", may_pass=True)
    if kind == 6:
        text = rng.choice(MARKUP + SQL) * rng.randint(1, 20)
        names = ["description", "contact_code_word", "contact_safe_times"]
        data = [
            (n, text[: MAX_CHARS if n == "description" else 100] if n in names else v)
            for n, v in data
        ]
        return Post(data, "markup and SQL text", may_pass=True)
    if kind == 7:
        text = "".join(chr(rng.randint(1, 0x10FFFF)) for _ in range(rng.randint(1, 400)))
        text = "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF)
        data = [(n, text if n == "description" else v) for n, v in data]
        return Post(data, "random code points", may_pass=True)
    data = [(n, "") for n, _ in data]
    return Post(data, "every field empty", refused={"description", "consent"}, may_pass=False)


def encode_form(fields: list[tuple[str, str | bytes]]) -> bytes:
    return urllib.parse.urlencode(
        [(n.encode(), v if isinstance(v, bytes) else v.encode()) for n, v in fields]
    ).encode()


def encode_multipart(fields: list[tuple[str, str | bytes]], boundary: str) -> bytes:
    out = []
    for name, value in fields:
        raw = value if isinstance(value, bytes) else value.encode()
        out.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + raw
            + b"\r\n"
        )
    return b"".join(out) + f"--{boundary}--\r\n".encode()


# --- the client ----------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    page: str
    location: str
    seconds: float = 0.0


class Run:
    """What all clients share: the request budget, the tally, the receipts, problems."""

    def __init__(self, host: str, port: int, budget: int) -> None:
        self.host, self.port, self.budget = host, port, budget
        self.sent = 0
        self.lock = threading.Lock()
        self.outcomes: Counter[tuple[str, str]] = Counter()
        self.shapes: Counter[tuple[str, str, str]] = Counter()
        self.violations: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}
        self.receipts: list[str] = []  # every receipt a page showed, in memory only
        self.deleted: set[str] = set()
        self.replies: Counter[str] = Counter()  # receipt -> answers accepted
        self.waited: Counter[str] = Counter()  # look-ups that waited, by what was typed
        self.choices: Choices | None = None
        # The staff side: a signed-in session's cookies per role, and the accounts made
        # in the admin during the run (email -> id).
        self.staff_sessions: dict[str, dict[str, str]] = {}
        self.added: dict[str, int] = {}
        # Receipts no visitor is using: a finder takes one, so two visitors never race
        # on one case (one deleting it while the other answers).
        self.free: list[str] = []

    def take(self) -> bool:
        with self.lock:
            if self.sent >= self.budget:
                return False
            self.sent += 1
            return True

    def count(self, action: str, outcome: str, shape: str = "") -> None:
        with self.lock:
            self.outcomes[(action, outcome)] += 1
            self.shapes[(action, shape, outcome)] += 1

    def violation(self, kind: str, example: str) -> None:
        with self.lock:
            self.violations[kind] += 1
            examples = self.examples.setdefault(kind, [])
            if len(examples) < EXAMPLES_PER_KIND:
                examples.append(example)


FORGERIES = ["no token", "wrong token", "no cookie", "cross-site", "origin null"]


class OutOfBudget(Exception):
    pass


class Visitor:
    """One browser: a cookie jar, an address (sent as the proxy would), a language."""

    def __init__(self, run: Run, number: int, seed: int) -> None:
        self.run = run
        self.rng = random.Random(f"{seed}:{number}")
        self.number = number
        self.cookies: dict[str, str] = {}
        self.address = f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
        self.language = self.rng.choice(LANGUAGE_HEADERS)
        self.lookup_token: str | None = None

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        headers: dict[str, str] | None = None,
        cookies: bool = True,
        counted: bool = True,
    ) -> Answer:
        # The receipt page a submission redirects to is fetched whatever the budget: a
        # person whose case was made always sees its receipt.
        if counted and not self.run.take():
            raise OutOfBudget
        sent = {
            "Host": f"127.0.0.1:{self.run.port}",
            "X-Forwarded-For": self.address,
            "X-Forwarded-Proto": "https",
            "Accept-Language": self.language,
        }
        if cookies and self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            # A browser under Referrer-Policy: no-referrer posts like this.
            sent |= {
                "Content-Type": content_type,
                "Origin": "null",
                "Sec-Fetch-Site": "same-origin",
            }
        sent |= headers or {}
        started = time.monotonic()
        for attempt in range(3):
            try:
                connection = http.client.HTTPConnection(self.run.host, self.run.port, timeout=60)
                connection.request(method, path, body=body, headers=sent)
                response = connection.getresponse()
                page = response.read().decode("utf-8", "replace")
                break
            except (ConnectionError, http.client.HTTPException):
                # A sync worker may close the socket on an oversized body before reading it.
                if attempt == 2:
                    return Answer(0, "", "")
                time.sleep(0.05)
        for header in response.msg.get_all("Set-Cookie") or []:
            try:
                jar = SimpleCookie(header)
            except CookieError:
                continue
            for name, morsel in jar.items():
                if morsel.value == "" or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Answer(
            response.status,
            page,
            response.getheader("Location") or "",
            time.monotonic() - started,
        )

    def check(self, action: str, shape: str, answer: Answer) -> str:
        """Tally an answer by kind and check the rules every answer must keep."""
        if answer.status == 0:
            outcome = "connection closed"
        elif answer.status >= 500:
            outcome = f"{answer.status}"
            self.run.violation(f"HTTP {answer.status}", f"{action}: {shape}")
        else:
            outcome = f"{answer.status} {self.kind(answer)}"
        self.run.count(action, outcome, shape)
        if answer.status in (400, 403) and "errors" in answer.page:
            for problem in misplaced_errors(parse(answer.page), refused=answer.status == 400):
                self.run.violation(f"error placement: {problem}", f"{action}: {shape}")
        document = re.search(r'<html lang="([^"]*)" dir="([^"]*)"', answer.page[:300])
        if document and (document.group(1) in RTL_LANGUAGES) != (document.group(2) == "rtl"):
            self.run.violation("the page's direction does not fit its language", document.group(1))
        for marker in ("<script>alert", "<img src=x", "</textarea><b>fuzz"):
            if marker in answer.page:
                self.run.violation("unescaped text", f"{action}: {shape}")
        return outcome

    @staticmethod
    def kind(answer: Answer) -> str:
        page = answer.page
        if answer.status in (301, 302, 303):
            path = urllib.parse.urlsplit(answer.location).path
            return "redirect " + re.sub(r"/\d+/", "/<id>/", path)
        if 'class="staff-nav"' in page:
            return "staff page"
        if 'id="receipt-code"' in page:
            return "receipt"
        if 'class="concern-form"' in page:
            return {200: "form", 403: "expired form kept"}.get(answer.status, "form refused")
        if 'name="receipt"' in page:
            return "look-up form" if answer.status == 200 else "receipt refused"
        if 'name="body"' in page:
            return "inbox" if answer.status == 200 else "answer refused"
        if 'name="confirm"' in page:
            return "delete page"
        if answer.status == 400:
            return "bad request page"
        if answer.status == 403:
            return "csrf page"
        return {404: "not found", 405: "not allowed", 409: "duplicate"}.get(answer.status, "page")

    # --- scenarios ---

    def open_form(self) -> tuple[str, str]:
        query = self.rng.choice(
            ["", "", "?for=self", "?for=other", "?for=%00", "?for=" + "x" * 3000]
        )
        answer = self.send("GET", "/write/" + query)
        self.check("form GET", "open the form", answer)
        token = hidden_value(answer.page, "csrfmiddlewaretoken") or ""
        key = hidden_value(answer.page, "submission_key") or secrets.token_urlsafe(24)
        return token, key

    def post_concern(
        self, post: Post, token: str, *, encoding: str = "form", prefixed: bool = True
    ) -> Answer:
        fields = [("csrfmiddlewaretoken", token), *post.fields]
        if encoding == "multipart":
            boundary = "----haven" + secrets.token_hex(8)
            body = encode_multipart(fields, boundary)
            content_type = f"multipart/form-data; boundary={boundary}"
        else:
            body = encode_form(fields)
            content_type = "application/x-www-form-urlencoded"
        prefix = self.rng.choice(PREFIXES) if prefixed and self.rng.random() < 0.03 else ""
        answer = self.send("POST", prefix + "/write/", body, content_type=content_type)
        outcome = self.check("concern POST", post.shape, answer)
        if prefix and answer.status != 404:
            self.run.violation("a language prefix answered", post.shape)
        if prefix:
            return answer
        if answer.status in (302, 303):
            # Post/redirect/get: the receipt is on the page the submission redirects to.
            if urllib.parse.urlsplit(answer.location).path != "/write/":
                self.run.violation("a submission redirected elsewhere", post.shape)
            if RECEIPT_IN_TEXT.search(answer.location):
                self.run.violation("a receipt in a URL", post.shape)
            answer = self.send("GET", "/write/", counted=False)
            outcome = self.check("receipt GET", post.shape, answer)
        self.judge_concern(post, answer, outcome)
        return answer

    def judge_concern(self, post: Post, answer: Answer, outcome: str) -> None:
        receipt = receipt_on(answer.page)
        if receipt:
            with self.run.lock:
                self.run.receipts.append(receipt)
            if not post.may_pass:
                self.run.violation("a post that must be refused made a case", post.shape)
        elif post.may_pass and not post.refused and post.shape == "valid" and answer.status != 409:
            self.run.violation(f"a valid concern was refused ({outcome})", post.shape)
        if answer.status != 400 or not post.refused:
            return
        root = parse(answer.page)
        shown = {
            node.attrs["id"][3:].removesuffix("_errors").removesuffix("_error")
            for node in root.walk()
            if node.tag == "ul" and "errors" in node.classes and "id" in node.attrs
        }
        for name in post.refused - shown:
            self.run.violation(f"no error shown for {name}", post.shape)
        if not kept(post.value("description"), textarea_value(root, "description")):
            self.run.violation("what was typed was not kept", post.shape)

    def writer(self) -> None:
        """Fills the form, sometimes wrongly first, then sends it; may send it twice."""
        choices = self.run.choices
        token, key = self.open_form()
        for _ in range(self.rng.choice([0, 0, 1, 1, 2])):
            if self.rng.random() < 0.6:
                post = nearly_valid(self.rng, choices, key)
            else:
                post = hostile_post(self.rng, choices, key)
            answer = self.post_concern(
                post, token, encoding=self.rng.choice(["form"] * 5 + ["multipart"])
            )
            if receipt_on(answer.page):
                return self.after_receipt(receipt_on(answer.page))
        post = Post(list(valid_concern(self.rng, choices, key).items()), "valid")
        if self.rng.random() < 0.05:
            return self.twins(post, token)
        answer = self.post_concern(post, token)
        receipt = receipt_on(answer.page)
        if receipt and self.rng.random() < 0.1:
            again = self.post_concern(
                Post(post.fields, "the same form sent again", may_pass=False), token, prefixed=False
            )
            if again.status != 409:
                self.run.violation("a form sent twice was not answered as a duplicate", "resend")
        if receipt:
            self.after_receipt(receipt)

    def twins(self, post: Post, token: str) -> None:
        """A double click: the same form twice at the same moment."""
        barrier = threading.Barrier(2)
        answers: list[Answer] = []

        def one() -> None:
            body = encode_form([("csrfmiddlewaretoken", token), *post.fields])
            barrier.wait()
            with contextlib.suppress(OutOfBudget):
                answers.append(self.send("POST", "/write/", body))

        threads = [threading.Thread(target=one) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        receipts = []
        for answer in answers:
            self.check("concern POST", "the same form twice at once", answer)
            if answer.status in (302, 303):  # the receipt is on the page it redirects to
                shown = self.send("GET", "/write/", counted=False)
                self.check("receipt GET", "the same form twice at once", shown)
                receipts += [receipt_on(shown.page)] if receipt_on(shown.page) else []
        with self.run.lock:
            self.run.receipts.extend(receipts)
        if len(answers) == 2 and (
            len(receipts) != 1 or sorted(a.status for a in answers) != [302, 409]
        ):
            statuses = sorted(a.status for a in answers)
            self.run.violation(
                "a double click did not give one receipt and one duplicate", str(statuses)
            )

    def after_receipt(self, receipt: str) -> None:
        if self.rng.random() < 0.5:
            self.returner(receipt)
        elif receipt not in self.run.deleted:
            with self.run.lock:
                self.run.free.append(receipt)

    def sloppy(self, receipt: str) -> str:
        """How people type a receipt back: case, spaces, look-alikes."""
        typed = receipt
        if self.rng.random() < 0.5:
            typed = typed.lower()
        if self.rng.random() < 0.5:
            typed = typed.replace("-", self.rng.choice([" ", "", " - ", "\u00a0", "\t"]))
        if self.rng.random() < 0.3:
            typed = typed.replace("0", "o").replace("1", "l")
        return self.rng.choice(["", " ", "\u200b"]) + typed + self.rng.choice(["", " ", "\n"])

    def near_miss(self, receipt: str) -> str:
        chars = list(receipt.replace("-", ""))
        kind = self.rng.randrange(4)
        if kind == 0:
            at = self.rng.randrange(len(chars))
            chars[at] = self.rng.choice(RECEIPT_ALPHABET.replace(chars[at], ""))
        elif kind == 1:
            chars.pop(self.rng.randrange(len(chars)))
        elif kind == 2:
            chars.append(self.rng.choice("ABC"))
        else:
            chars.reverse()
        return "".join(chars)

    def look_up(self, typed: str | bytes, shape: str) -> Answer:
        """Type a code into the look-up form; a refused page's form serves the next try."""
        token = self.lookup_token
        if token is None:
            page = self.send("GET", "/follow-up/")
            self.check("receipt GET", "open the look-up", page)
            token = hidden_value(page.page, "csrfmiddlewaretoken") or ""
        answer = self.send(
            "POST", "/follow-up/", encode_form([("csrfmiddlewaretoken", token), ("receipt", typed)])
        )
        self.check("receipt POST", shape, answer)
        self.lookup_token = hidden_value(answer.page, "csrfmiddlewaretoken")
        return answer

    def returner(self, receipt: str) -> None:
        """Comes back with the receipt, reads, answers, perhaps deletes the case."""
        answer = self.look_up(self.sloppy(receipt), "own receipt, typed loosely")
        if "/follow-up/inbox/" not in answer.location:
            self.run.violation("a receipt shown did not open its case", self.kind(answer))
            return
        inbox = self.send("GET", "/follow-up/inbox/")
        self.check("inbox GET", "read the case", inbox)
        token = hidden_value(inbox.page, "csrfmiddlewaretoken") or ""
        for _ in range(self.rng.randint(0, 4)):
            self.reply(receipt, token)
        roll = self.rng.random()
        if roll < 0.25:
            self.delete(receipt, token)
        elif roll < 0.5:
            self.check(
                "leave POST",
                "sign out",
                self.send(
                    "POST", "/follow-up/leave/", encode_form([("csrfmiddlewaretoken", token)])
                ),
            )

    def reply(self, receipt: str, token: str) -> None:
        kind = self.rng.randrange(6)
        expect_ok = True
        fields: list[tuple[str, str | bytes]] = [("csrfmiddlewaretoken", token)]
        if kind == 0:
            body, shape, expect_ok = whitespace_only(self.rng), "blank answer", False
        elif kind == 1:
            body, shape, expect_ok = (
                "y" * (MAX_CHARS + self.rng.randint(1, 30_000)),
                "answer too long",
                False,
            )
        elif kind == 2:
            body, shape = rng_bytes(self.rng), "answer with invalid UTF-8"
        elif kind == 3:
            fields = [("csrfmiddlewaretoken", "x" * 64)]
            body, shape, expect_ok = hostile_text(self.rng), "answer with a bad CSRF token", False
        else:
            body, shape = hostile_text(self.rng, at_most=MAX_CHARS), "answer"
        fields.append(("body", body))
        if self.rng.random() < 0.1:
            fields.append(("body", hostile_text(self.rng)))  # the last one counts
            shape += ", then a second, good body"
            expect_ok = kind != 3
        answer = self.send("POST", "/follow-up/inbox/", encode_form(fields))
        self.check("inbox POST", shape, answer)
        accepted = answer.status == 302 and "/follow-up/inbox/" in answer.location
        if accepted:
            with self.run.lock:
                self.run.replies[receipt] += 1
        if accepted and not expect_ok:
            self.run.violation("an answer that must be refused was stored", shape)
        if not accepted and expect_ok:
            self.run.violation(
                f"an answer was refused ({answer.status} {self.kind(answer)})", shape
            )
        if answer.status == 400 and not expect_ok and 'id="id_body_error"' not in answer.page:
            self.run.violation("no error shown for body", shape)

    def delete(self, receipt: str, token: str) -> None:
        self.check("delete GET", "confirm page", self.send("GET", "/follow-up/delete/"))
        if self.rng.random() < 0.3:
            confirm = self.rng.choice(["no", "YES", "", "yes\x00", "1"])
            answer = self.send(
                "POST",
                "/follow-up/delete/",
                encode_form([("csrfmiddlewaretoken", token), ("confirm", confirm)]),
            )
            self.check("delete POST", "not confirmed", answer)
            return
        answer = self.send(
            "POST",
            "/follow-up/delete/",
            encode_form([("csrfmiddlewaretoken", token), ("confirm", "yes")]),
        )
        self.check("delete POST", "confirmed", answer)
        if answer.status == 200:
            with self.run.lock:
                self.run.deleted.add(receipt)
            again = self.look_up(receipt, "a deleted case's receipt")
            if again.location:
                self.run.violation("a deleted case opened again", "delete")

    def guesser(self) -> None:
        """Types wrong codes: garbage, near misses of real ones; past the limit each try
        waits. Only a code the form accepts (1 to 100 characters once cleaned) counts."""
        tries = 0
        for _ in range(self.rng.choice([1, 2, 3, 13])):
            kind = self.rng.randrange(4)
            with self.run.lock:
                known = self.rng.choice(self.run.receipts) if self.run.receipts else None
            if kind == 0 and known:
                typed: str | bytes = self.near_miss(known)
                shape = "near miss of a real receipt"
            elif kind == 1:
                typed, shape = (
                    hostile_text(self.rng, at_most=self.rng.choice([20, 100, 500])),
                    "garbage",
                )
            elif kind == 2:
                typed, shape = rng_bytes(self.rng), "invalid UTF-8"
            else:
                typed, shape = (
                    "".join(self.rng.choices(RECEIPT_ALPHABET, k=self.rng.choice([20, 24]))),
                    "random well-formed",
                )
            answer = self.look_up(typed, shape)
            if answer.location:
                self.run.violation("a guessed receipt opened a case", shape)
            if not 0 < len(cleaned(typed)) <= 100:
                continue
            if tries >= THROTTLE_AFTER:
                if answer.seconds < FIRST_WAIT * 0.9:
                    self.run.violation("no wait after too many wrong receipts", shape)
                with self.run.lock:
                    self.run.waited[shape] += 1
            tries += 1

    def finder(self) -> None:
        """A receipt from an earlier visit: a person back on another day or device."""
        with self.run.lock:
            known = (
                self.run.free.pop(self.rng.randrange(len(self.run.free))) if self.run.free else None
            )
        if known is None:
            return self.guesser()
        try:
            self.returner(known)
        finally:
            if known not in self.run.deleted:
                with self.run.lock:
                    self.run.free.append(known)

    def forger(self) -> None:
        """Posts that fail the CSRF check must neither make a case nor lose the text."""
        token, key = self.open_form()
        post = Post(
            list(valid_concern(self.rng, self.run.choices, key).items()), "bad CSRF", may_pass=False
        )
        kind = self.rng.randrange(5)
        headers, fields, cookies = {}, [("csrfmiddlewaretoken", token), *post.fields], True
        if kind == 0:
            fields = post.fields
        elif kind == 1:
            fields = [("csrfmiddlewaretoken", secrets.token_urlsafe(48)[:64]), *post.fields]
        elif kind == 2:
            cookies = False
        elif kind == 3:
            headers = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
        else:
            headers = {"Sec-Fetch-Site": "none"}  # Origin: null, and no way to vouch for it
        answer = self.send("POST", "/write/", encode_form(fields), headers=headers, cookies=cookies)
        self.check(
            "concern POST",
            f"bad CSRF ({FORGERIES[kind]})",
            answer,
        )
        if receipt_on(answer.page):
            with self.run.lock:
                self.run.receipts.append(receipt_on(answer.page))
            self.run.violation("a post with a bad CSRF check made a case", str(kind))
        if answer.status == 403 and 'class="concern-form"' in answer.page:
            shown = textarea_value(parse(answer.page), "description")
            if not kept(post.value("description"), shown):
                self.run.violation("what was typed was not kept", "bad CSRF")

    def raw(self) -> None:
        """Bodies and requests no browser sends."""
        token, key = self.open_form()
        data = [
            ("csrfmiddlewaretoken", token),
            *valid_concern(self.rng, self.run.choices, key).items(),
        ]
        kind = self.rng.randrange(9)
        if kind == 0:
            size = self.rng.choice([UPLOAD_LIMIT + 1, 400_000, 2_000_000])
            data.append(("description", "w" * size))
            shape = "oversized body"
            answer = self.send("POST", "/write/", encode_form(data))
        elif kind == 1:
            data += [(f"f{i}", "1") for i in range(self.rng.choice([200, 1000]))]
            shape = "too many fields"
            answer = self.send("POST", "/write/", encode_form(data))
        elif kind == 2:
            shape = "JSON body"
            answer = self.send(
                "POST", "/write/", json.dumps(dict(data)).encode(), content_type="application/json"
            )
        elif kind == 3:
            shape = "malformed multipart"
            body = encode_multipart(data, "abc")[: self.rng.randint(10, 400)]
            answer = self.send(
                "POST",
                "/write/",
                body,
                content_type=self.rng.choice(
                    [
                        "multipart/form-data; boundary=abc",
                        "multipart/form-data",
                        "multipart/form-data; boundary=",
                    ]
                ),
            )
        elif kind == 4:
            shape = "odd charset"
            charset = self.rng.choice(
                ["utf-16", "latin-1", "bogus", "utf-8\x00", "cp1252", "ascii"]
            )
            answer = self.send(
                "POST",
                "/write/",
                encode_form(data),
                content_type=f"application/x-www-form-urlencoded; charset={charset}",
            )
        elif kind == 5:
            shape = "raw garbage body"
            body = bytes(self.rng.randrange(256) for _ in range(self.rng.randint(1, 5000)))
            answer = self.send("POST", "/write/", body)
        elif kind == 6:
            shape = "odd method"
            method = self.rng.choice(["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE"])
            answer = self.send(
                method,
                self.rng.choice(["/write/", "/follow-up/", "/follow-up/inbox/", "/"]),
                encode_form(data),
            )
        elif kind == 7:
            shape = "garbage query string"
            query = (
                urllib.parse.quote(hostile_text(self.rng), safe="")
                + "&"
                + "%ff%fe%00=%zz&for="
                + "x" * self.rng.choice([10, 5000])
            )
            answer = self.send("POST", "/write/?" + query, encode_form(data))
        else:
            shape = "mangled field names"
            data = [
                (
                    n + self.rng.choice(["[]", "\x00", " ", ".0", "%"])
                    if self.rng.random() < 0.3
                    else n,
                    v,
                )
                for n, v in data
            ]
            answer = self.send("POST", "/write/", encode_form(data))
        outcome = self.check("raw POST", shape, answer)
        if answer.status in (302, 303) and urllib.parse.urlsplit(answer.location).path == "/write/":
            # A case was made: its receipt, once.
            answer = self.send("GET", "/write/", counted=False)
            self.check("receipt GET", shape, answer)
        receipt = receipt_on(answer.page)
        if receipt:
            with self.run.lock:
                self.run.receipts.append(receipt)
        if kind in (0, 1) and not outcome.startswith("400"):
            self.run.violation("an oversized request was not refused with 400", outcome)

    def wanderer(self) -> None:
        """Pages with odd languages, prefixes, paths, hosts and cookies; no session."""
        kind = self.rng.randrange(7)
        if kind == 0:
            language = self.rng.choice(
                ["nl", "ar", "fa", "xx", "", "ar\x00", "../../etc", "e" * 500, "zh-hans"]
            )
            nxt = self.rng.choice(
                [
                    "/write/",
                    "https://evil.example/",
                    "//evil.example",
                    "/\\evil",
                    "javascript:alert(1)",
                    "/write/?x=%00",
                ]
            )
            start = self.send("GET", "/")
            self.check("page GET", "the start page", start)
            token = hidden_value(start.page, "csrfmiddlewaretoken") or ""
            fields = [("csrfmiddlewaretoken", token), ("language", language), ("next", nxt)]
            answer = self.send("POST", "/i18n/setlang/", encode_form(fields))
            outcome = self.check("language POST", "the language switch", answer)
            if "evil" in answer.location or "javascript" in answer.location:
                self.run.violation("the language switch redirected off the site", outcome)
            if answer.location.startswith("/"):
                self.check(
                    "page GET", "after the language switch", self.send("GET", answer.location)
                )
        elif kind == 1:
            self.cookies["django_language"] = self.rng.choice(
                ["xx", "ar", "fa", "%00", "e" * 300, "zh-hant"]
            )
            path = self.rng.choice(["/", "/write/", "/follow-up/", "/guide/"])
            self.check("page GET", "language cookie", self.send("GET", path))
        elif kind == 2:
            path = self.rng.choice(PREFIXES) + self.rng.choice(
                ["/", "/write/", "/follow-up/", "/guide/"]
            )
            answer = self.send("GET", path)
            self.check("page GET", "language prefix", answer)
        elif kind == 5:
            path = self.rng.choice(ODD_PATHS)
            self.check("page GET", "odd path", self.send("GET", path))
        elif kind == 6:
            host = self.rng.choice(
                ["evil.example", "127.0.0.1:1@evil.example", "", "[::1", "a" * 300]
            )
            self.check("page GET", "odd Host", self.send("GET", "/", headers={"Host": host}))
        elif kind == 3:
            path = self.rng.choice(["/follow-up/inbox/", "/follow-up/delete/"])
            method = self.rng.choice(["GET", "POST"])
            body = encode_form([("body", "hi"), ("confirm", "yes")]) if method == "POST" else None
            answer = self.send(method, path, body)
            self.check("inbox without session", method, answer)
            if answer.status == 200:
                self.run.violation("an inbox opened without a receipt", path)
        else:
            self.cookies["__Host-sessionid"] = self.rng.choice(
                ["x", "0" * 32, secrets.token_hex(16), "'; --"]
            )
            answer = self.send("GET", "/follow-up/inbox/")
            self.check("inbox without session", "forged session cookie", answer)
            if answer.status == 200:
                self.run.violation("an inbox opened with a forged session", "cookie")


    # --- the staff side (issue 12, item 7) ---

    def staff_get(self, path: str, shape: str) -> Answer:
        answer = self.send("GET", path)
        self.staff_check(f"staff GET: {shape}", shape, answer)
        return answer

    def staff_check(self, action: str, shape: str, answer: Answer) -> None:
        outcome = self.check(action, shape, answer)
        if answer.status in (301, 302) and "/accounts/login/" in answer.location:
            self.run.violation("a staff session ended during the run", f"{action}: {outcome}")

    def staff_post(self, form_path: str, path: str, fields: list, shape: str) -> Answer:
        page = self.send("GET", form_path)
        token = hidden_value(page.page, "csrfmiddlewaretoken") or ""
        answer = self.send("POST", path, encode_form([("csrfmiddlewaretoken", token), *fields]))
        self.staff_check(f"staff POST: {shape}", shape, answer)
        return answer

    def odd_id(self) -> str:
        """An id as a path segment, ready to send (already %-encoded where it must be)."""
        return self.rng.choice(
            [*BEYOND_64_BITS, "007", "-1", "1e3", "0x1", "%D9%A3", "%00", "1%00", "%201", "1.0"]
        )

    def staff(self) -> None:
        """Signed in as a coordinator (or a volunteer): ids no row can have, NUL
        characters in filters, and staff accounts made in the admin."""
        role = "coordinator" if self.rng.random() < 0.8 else "volunteer"
        self.cookies = dict(self.run.staff_sessions[role])
        huge = self.rng.choice(BEYOND_64_BITS)
        kind = self.rng.randrange(6) if role == "coordinator" else 6
        if kind == 0:
            self.staff_get(f"/desk/team/{self.odd_id()}/", "odd id in a path")
        elif kind == 1:
            with self.run.lock:
                added = list(self.run.added.values())
            if not added:
                self.staff_get("/desk/team/", "the team page")
                return
            target = f"/desk/team/{self.rng.choice(added)}/"
            fields = [
                ("role", self.rng.choice(["volunteer", "coordinator", "x\x00"])),
                ("languages", self.rng.choice([huge, "1", "\x00", "en"])),
                ("languages", self.rng.choice([huge, "2"])),
                ("needs", self.rng.choice([huge, "1", "-1"])),
                ("capacity", self.rng.choice(["3", huge, "-1", "\x00"])),
                ("paused_until", self.rng.choice(["", "2031-02-30", "\x00", huge])),
                ("active", "on"),
                ("return_cases", "keep"),
            ]
            self.staff_post(target, target, fields, "team form with odd ids")
        elif kind == 2:
            model = self.rng.choice(
                ["helpdesk/user", "helpdesk/invitation", "resources/language", "resources/need"]
            )
            name = self.rng.choice(["role", "is_active__exact", "q", "o", "p", "id__gt", "all"])
            value = self.rng.choice(["\x00", "a\x00b", "volunteer\x00", huge, "%ff", "-1"])
            query = urllib.parse.urlencode([(name, value)])
            self.staff_get(f"/admin/{model}/?{query}", "admin filter with NUL or a huge id")
        elif kind == 3:
            name = self.rng.choice(["page", "language", "need", "volunteer", "status", "urgent"])
            value = self.rng.choice([huge, "\x00", "99999999999999999", "-5", "%"])
            path = self.rng.choice(["/desk/", "/desk/pool/", "/desk/cases/"])
            query = urllib.parse.urlencode([(name, value)])
            self.staff_get(f"{path}?{query}", "case list with an odd query")
        elif kind == 4:
            model = self.rng.choice(["helpdesk/user", "resources/language", "resources/need"])
            self.staff_get(f"/admin/{model}/{self.odd_id()}/change/", "odd id")
        elif kind == 5:
            self.add_staff_account()
        else:
            path = self.rng.choice(
                [
                    "/desk/me/",
                    f"/desk/cases/{huge}/",
                    f"/desk/cases/X/referrals/new/?template={huge}",
                    "/desk/pool/?page=" + huge,
                ]
            )
            self.staff_get(path, "a volunteer's pages with odd ids")

    def add_staff_account(self) -> None:
        """A coordinator adds a staff account in the admin; it must have its profile,
        show on the team page and open there."""
        email = f"added-{self.number}@fuzz.test"
        fields = [
            ("email", email),
            ("role", self.rng.choice(["volunteer", "coordinator"])),
            ("password1", STAFF_PASSWORD),
            ("password2", STAFF_PASSWORD),
            ("usable_password", "true"),
        ]
        add = "/admin/helpdesk/user/add/"
        answer = self.staff_post(add, add, fields, "a staff account made in the admin")
        made = re.search(r"/admin/helpdesk/user/(\d+)/change/", answer.location)
        if not made:
            self.run.violation("the admin did not make a staff account", str(answer.status))
            return
        with self.run.lock:
            self.run.added[email] = int(made.group(1))
        team = self.staff_get("/desk/team/", "the team page after an account was added")
        if email not in team.page:
            self.run.violation("an account made in the admin is missing from the team page", "")
        member = self.staff_get(f"/desk/team/{made.group(1)}/", "its page on the team")
        if member.status != 200:
            self.run.violation("an account made in the admin does not open", str(member.status))

    def visit(self) -> None:
        roll = self.rng.random()
        if roll < 0.42:
            self.writer()
        elif roll < 0.52:
            self.raw()
        elif roll < 0.60:
            self.forger()
        elif roll < 0.71:
            self.guesser()
        elif roll < 0.81:
            self.finder()
        elif roll < 0.91 and self.run.staff_sessions:
            self.staff()
        else:
            self.wanderer()


def cleaned(typed: str | bytes) -> str:
    """What the receipt field makes of a value (intake.forms.TextField)."""
    text = typed.decode("utf-8", "replace") if isinstance(typed, bytes) else typed
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", "", text.strip().replace("\r\n", "\n"))


def rng_bytes(rng: random.Random) -> bytes:
    return rng.choice(PLAIN).encode()[: rng.randint(0, 30)] + rng.choice(INVALID_UTF8) + b"\x00"


def sign_in_staff(run: Run, accounts: dict[str, tuple[int, str]], seed: int) -> None:
    """Sign each staff account in once, as a person does (password, then the code of
    its authenticator); the staff visitors share these sessions."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    from helpdesk.models import User

    for number, (role, (user_id, secret)) in enumerate(accounts.items(), start=1):
        visitor = Visitor(run, -1 - number, seed)
        visitor.language = "en"
        email = User.objects.get(pk=user_id).email
        page = visitor.send("GET", "/accounts/login/")
        token = hidden_value(page.page, "csrfmiddlewaretoken") or ""
        fields = [("csrfmiddlewaretoken", token), ("login", email), ("password", STAFF_PASSWORD)]
        answer = visitor.send("POST", "/accounts/login/", encode_form(fields))
        if "/2fa/authenticate/" not in answer.location:
            raise SystemExit(f"the {role} could not sign in ({answer.status})")
        page = visitor.send("GET", answer.location)
        token = hidden_value(page.page, "csrfmiddlewaretoken") or ""
        code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
        fields = [("csrfmiddlewaretoken", token), ("code", code)]
        answer = visitor.send("POST", "/accounts/2fa/authenticate/", encode_form(fields))
        if answer.status != 302 or "/2fa/" in answer.location:
            raise SystemExit(f"the {role}'s code was refused ({answer.status})")
        run.staff_sessions[role] = dict(visitor.cookies)


def drive(run: Run, clients: int, seed: int) -> None:
    numbers = itertools.count()
    numbers_lock = threading.Lock()

    def client() -> None:
        while True:
            with numbers_lock:
                number = next(numbers)
            try:
                Visitor(run, number, seed).visit()
            except OutOfBudget:
                return

    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()


def read_server_log(run: Run) -> None:
    """A 4xx is logged as a warning, and Django logs a refused suspicious request (too
    many fields, a body too large) as an error of `django.security.*` before answering
    400: both are expected. Any other error (an exception turned into a 500, a worker
    killed for a timeout) is a violation."""
    for line in SERVER_LOG.read_text(errors="replace").splitlines():
        header = re.match(r"^(?:\d{4}-\d\d-\d\d [\d:,]+|\[[^]]+\] \[\d+\]) (.*)", line)
        if not header or "WARNING" in line:
            continue
        message = header.group(1)
        if message.startswith("ERROR django.security."):
            run.count("(server log)", message.split()[1])
        elif re.search(r"ERROR|CRITICAL", message):
            run.violation("server log: " + message[:120], "see var/fuzz-server.log")


# --- the database afterwards ---------------------------------------------------------------


def check_database(run: Run, since: datetime) -> dict:
    """No half-stored case, no message without its case, one case per receipt shown, and
    every accepted answer stored once."""
    from django.db import connection

    from helpdesk.models import Case, Message
    from intake import receipts

    problems: Counter[str] = Counter()
    cases = list(Case.objects.filter(created_at__gte=since))
    for case in cases:
        if case.content_destroyed:
            if case.description or case.messages.exists():
                problems["a deleted case still holds content"] += 1
            continue
        if not case.need_id:
            problems["a case without its need"] += 1
        if not case.languages or not all(isinstance(code, str) and code for code in case.languages):
            problems["a case without its languages"] += 1
        if not case.description.strip():
            problems["a case without its description"] += 1
        if not re.fullmatch(r"[0-9a-f]{64}", case.receipt_hash):
            problems["a case without a receipt hash"] += 1
        if not case.submission_key:
            problems["a case without a submission key"] += 1
        texts = [
            case.description,
            case.contact_details,
            case.contact_safe_times,
            case.contact_code_word,
        ]
        if any("\x00" in text for text in texts):
            problems["a NUL byte stored"] += 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM helpdesk_message m LEFT JOIN helpdesk_case c ON c.id = m.case_id "
            "WHERE c.id IS NULL"
        )
        orphans = cursor.fetchone()[0]
    if orphans:
        problems["a message without its case"] += orphans
    shown = len(run.receipts)
    if len(cases) != shown:
        problems[f"cases made ({len(cases)}) differ from receipts shown ({shown})"] += 1
    by_hash = {case.receipt_hash: case for case in cases}
    for receipt in run.receipts:
        case = by_hash.get(receipts.receipt_hash(receipts.normalize(receipt)))
        if receipt in run.deleted:
            if case is not None:
                problems["a deleted receipt still finds its case"] += 1
            continue
        if case is None:
            problems["a receipt shown has no case"] += 1
            continue
        stored = Message.objects.filter(case=case, author=Message.Author.SUBMITTER).count()
        if stored != run.replies[receipt]:
            problems["answers stored differ from answers accepted"] += 1
    blank = sum(1 for m in Message.objects.filter(case__in=cases) if not m.body.strip())
    if blank:
        problems["a blank answer stored"] += blank
    from helpdesk.models import User

    without = User.objects.filter(profile__isnull=True).count()
    if without:
        problems["a staff account without its profile"] += without
    added = User.objects.filter(email__in=list(run.added)).count()
    if added != len(run.added):
        problems["an account the admin made is missing"] += len(run.added) - added
    return {
        "cases": len(cases),
        "receipts_shown": shown,
        "deleted": len(run.deleted),
        "answers_accepted": sum(run.replies.values()),
        "answers_stored": Message.objects.filter(case__in=cases).count(),
        "staff_accounts_added": len(run.added),
        "problems": dict(problems),
    }


# --- the report ----------------------------------------------------------------------------


def summary(run: Run, database: dict, seconds: float, args: argparse.Namespace) -> dict:
    statuses = Counter()
    for (action, outcome), n in run.outcomes.items():
        if action != "(server log)":
            statuses[outcome.split()[0]] += n
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "requests": run.sent,
        "seed": args.seed,
        "clients": args.clients,
        "seconds": round(seconds, 1),
        "requests_per_second": round(run.sent / seconds, 1),
        "statuses": dict(sorted(statuses.items())),
        "outcomes": [
            {"action": action, "outcome": outcome, "count": n}
            for (action, outcome), n in sorted(run.outcomes.items())
        ],
        "by_shape": [
            {"action": action, "shape": shape, "outcome": outcome, "count": n}
            for (action, shape, outcome), n in sorted(run.shapes.items())
            if action != "(server log)"
        ],
        "waited": dict(run.waited.most_common()),
        "mode": args.mode,
        "violations": dict(run.violations.most_common()),
        "examples": run.examples,
        "database": database,
    }


MODES = {
    "postgresql": "gunicorn (2 sync workers, production settings: PostgreSQL, Redis)",
    "embedded": (
        "gunicorn (2 sync workers) serving the embedded default (SQLite, the database "
        "cache, Celery eager, DEBUG), as `make run` has it"
    ),
    "url": "a running server",
}


def markdown(result: dict) -> str:
    lines = [
        f"# Fuzz run: {result['requests']:,} requests, seed {result['seed']}, {result['mode']}",
        "",
        f"{result['date']}; {result['clients']} clients against {MODES[result['mode']]}; "
        f"{result['seconds']} s, {result['requests_per_second']} requests/s. Made by "
        "`make fuzz` (bench/fuzz.py; its docstring says what is sent and checked).",
        "",
        "Checked on every answer: no 5xx; a refused form's every error inside its field's "
        "group and referenced by aria-describedby (no reference to a missing id), never a "
        "refusal without a field that says why; the typed description given back; sent "
        "markup escaped; the page's direction fitting its language; each expected refusal "
        "on its field; a receipt shown always opening its case; past 10 wrong codes from "
        "one address, each look-up from it waiting; on the staff side, the signed-in "
        "sessions never ended, an account made in the admin on the team page. Afterwards, "
        "in the database: no half case, no message without its case, one case per receipt "
        "shown, each case's answers as accepted, every staff account with its profile.",
        "",
        "Statuses: " + ", ".join(f"{s}: {n:,}" for s, n in result["statuses"].items()),
        "",
        "| request | answer | count |",
        "|---|---|---:|",
    ]
    lines += [f"| {o['action']} | {o['outcome']} | {o['count']:,} |" for o in result["outcomes"]]
    lines += [
        "",
        "## Wrong codes past the tenth from one address, by what was typed",
        "",
        "A right receipt always opens its inbox. After 10 wrong codes from one address in "
        "15 minutes, each look-up from that address waits before it is checked: 0.25 s, "
        "doubling, at most 3 s, one at a time per address (intake/throttle.py). Each of "
        "these waited at least 0.25 s:",
        "",
    ]
    lines += [f"- {shape}: {n:,}" for shape, n in result["waited"].items()] or ["- none"]
    db = result["database"]
    lines += [
        "",
        "## The database afterwards",
        "",
        f"- cases made: {db['cases']:,}; receipts shown: {db['receipts_shown']:,}; "
        f"deleted by their submitter: {db['deleted']:,}",
        f"- answers accepted: {db['answers_accepted']:,}; stored: {db['answers_stored']:,} "
        "(a deleted case's answers are destroyed with it; every other case holds exactly "
        "the answers accepted for it)",
        f"- staff accounts made in the admin: {db['staff_accounts_added']:,}, each with its "
        "profile",
        f"- problems: {db['problems'] or 'none'}",
        "",
        "## Violations",
        "",
    ]
    if not result["violations"]:
        lines.append("None.")
    for kind, n in result["violations"].items():
        examples = "; ".join(result["examples"].get(kind, []))
        lines.append(f"- **{kind}**: {n:,} (e.g. {examples})")
    return "\n".join(lines) + "\n"


def print_table(result: dict) -> None:
    print(f"\n{'request':<24} {'answer':<40} {'count':>7}")
    for o in result["outcomes"]:
        print(f"{o['action']:<24} {o['outcome']:<40} {o['count']:>7,}")
    db = result["database"]
    print(
        f"\n{result['requests']:,} requests in {result['seconds']} s "
        f"({result['requests_per_second']}/s); statuses {result['statuses']}"
    )
    print(
        f"database: {db['cases']:,} cases, {db['receipts_shown']:,} receipts shown, "
        f"{db['deleted']:,} deleted, {db['answers_stored']:,} answers; "
        f"problems: {db['problems'] or 'none'}"
    )
    waited = ", ".join(f"{shape} {n:,}" for shape, n in result["waited"].items())
    print(f"waited: {waited or 'none'}")
    print("violations:" if result["violations"] else "violations: none")
    for kind, n in result["violations"].items():
        print(f"  {n:>6,}  {kind}   e.g. {result['examples'][kind][0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--embedded", action="store_true", help="serve the embedded default (SQLite, DEBUG)"
    )
    parser.add_argument("--url", help="a running server (its database via --database)")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--write", action="store_true", help="write results for any size")
    args = parser.parse_args()
    args.mode = "url" if args.url else "embedded" if args.embedded else "postgresql"

    started = time.monotonic()
    own_server = not args.url
    if args.embedded:
        shutil.rmtree(EMBEDDED_VAR, ignore_errors=True)
        env = embedded_environment(args.port)
    else:
        if own_server:
            recreate_database(args.database)
        env = fuzz_environment(args.database, args.port)
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    server = None
    accounts = {}
    if own_server:
        prepare_database()
        accounts = make_staff_accounts()
        if not args.embedded:
            import redis

            # Rate counters and queued tasks of an earlier run must not carry over.
            redis.Redis.from_url(env["REDIS_URL"]).flushdb()
        SERVER_LOG.parent.mkdir(exist_ok=True)
        server = start_gunicorn(args.port, env, SERVER_LOG)
        host, port = "127.0.0.1", args.port
    else:
        parts = urllib.parse.urlsplit(args.url)
        host, port = parts.hostname, parts.port or 80
    print(f"set up in {time.monotonic() - started:.1f} s")
    from django.utils import timezone

    since = timezone.now()
    run = Run(host, port, args.requests)
    try:
        probe = Visitor(run, -1, args.seed)
        probe.language = "en"
        form = probe.send("GET", "/write/")
        if form.status != 200:
            raise SystemExit(f"GET /write/ answered {form.status}: nothing to fuzz")
        run.choices = Choices.from_form(form.page)
        if accounts:
            sign_in_staff(run, accounts, args.seed)
        began = time.monotonic()
        drive(run, args.clients, args.seed)
        seconds = time.monotonic() - began
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    if server is not None:
        read_server_log(run)
    database = check_database(run, since)
    result = summary(run, database, seconds, args)
    print_table(result)
    print(f"total, with set-up and checks: {time.monotonic() - started:.1f} s")
    if args.write or args.requests >= 10_000:
        name = "fuzz-embedded" if args.embedded else "fuzz"
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{name}.json").write_text(
            json.dumps(result, indent=2, ensure_ascii=False) + "\n"
        )
        (RESULTS / f"{name}.md").write_text(markdown(result))
    failed = result["violations"] or database["problems"]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
