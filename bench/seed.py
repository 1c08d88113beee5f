"""Seed a realistic desk into the PostgreSQL database `haven_bench` (dropped and made
anew): the real library, 200 volunteers and a coordinator, and N cases over two years
with messages, notes, assignments, referrals with their events, and access log entries.
Three made-up partner organisations take referrals through Haven: theirs are answered
by the partner itself (acknowledged, accepted, declined with a reason, completed, a
message back), some late, some never (the reminder and the stall).

Content is real ciphertext, as the desk stores it: each case has its own data key,
wrapped by the master key into the key store (`haven_bench_keys`), and its texts (a few
hundred distinct ones, reused) are sealed with that key. The rows go in with COPY.

    python bench/seed.py [--cases 100000] [--seed 7]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import environment  # noqa: E402

CHUNK = 20_000
VOLUNTEERS = 200
COORDINATOR_EMAIL = "bench-coordinator@haven.test"
PASSWORD = "bench-password-never-used-elsewhere"  # noqa: S105 - a throwaway database

COUNTRIES = (
    ("SY", 14),
    ("AF", 12),
    ("UA", 11),
    ("IR", 8),
    ("TR", 6),
    ("ER", 5),
    ("SO", 4),
    ("IQ", 6),
    ("BE", 7),
    ("NL", 5),
    ("FR", 4),
    ("MA", 3),
    ("RU", 4),
    ("VE", 2),
    ("CO", 1),
    ("SD", 3),
    ("YE", 2),
    ("PS", 2),
    ("LB", 2),
    ("CD", 1),
)
# Submitters' first language, weighted; the others are added as second choices.
LANGUAGES = (
    ("ar", 26),
    ("fa", 18),
    ("ru", 12),
    ("en", 14),
    ("fr", 10),
    ("tr", 7),
    ("nl", 8),
    ("es", 5),
)
CLOSE_REASONS = (
    ("resolved", 40),
    ("referred", 18),
    ("no_reply", 22),
    ("withdrawn", 6),
    ("out_of_scope", 8),
    ("duplicate", 4),
    ("deleted", 2),
)
CHANNELS = (("none", 45), ("email", 20), ("signal", 20), ("phone", 12), ("other", 3))

TEXTS = {
    "description": [
        "My husband takes my phone and my papers. I want to leave but I have nowhere to go.",
        "Since the war I live with my brother's family, they do not let me go out alone.",
        "I have a residence permit through my partner and he says he will have it cancelled.",
        "My friend is afraid to go home, she has bruises and asked me to write for her.",
        "I applied for asylum six months ago and I still have no interview date.",
        "The landlord wants us out by Friday and my children go to school here.",
        "I was told my family will send me back to marry someone, I am 19.",
        "Someone posted my photos online and my family saw them. I need to be safe.",
    ],
    "contact": [
        "signal +32 470 12 34 56",
        "amal.k@example.org",
        "+31 6 1234 5678",
        "call after 10 on weekdays",
        "telegram @safe_contact",
    ],
    "times": ["weekdays 10-14", "after 21h", "only mornings", "Tuesday and Thursday"],
    "code": ["ask for Maria", "say it is the pharmacy", "the blue bag", "school meeting"],
    "submitter": [
        "Thank you for answering. Is it safe to come to the office?",
        "He came back early yesterday, I could not write. I am ok now.",
        "I have the papers now, what do I do next?",
        "Can someone speak Arabic with me on the phone?",
        "I went to the address you sent, they were kind.",
        "Please do not call, only write here.",
    ],
    "staff": [
        "Thank you for writing to us. You are not alone; we read every message.",
        "Here is an organisation near you that helps in your language.",
        "You can come without an appointment on Tuesday mornings.",
        "If you are in danger right now, please call 112.",
        "I have asked the shelter if they have a place this week.",
        "Would it be safe for you if we wrote to your email as well?",
    ],
    "note": [
        "Spoke with shelter coordinator, place possible from next week.",
        "Submitter prefers written contact only. Do not call.",
        "Checked with legal aid: appointment possible in French.",
        "Follow up on Friday if no reply.",
    ],
    "subject": ["Referral from Haven", "Request for support", "A person needs your help"],
    "referral": [
        "A person we are helping would like your support with housing. They consented to "
        "this message and prefer contact in Arabic.",
        "With consent, we refer someone who needs legal advice about their residence permit.",
        "Could you offer an intake appointment? The person is available on weekday mornings.",
    ],
    "outcome": ["Accepted, intake done.", "No capacity this month.", "Could not reach them."],
    "partner": [
        "We can see her on Tuesday at 10.",
        "Our lawyer will call the volunteer first.",
        "We only work with adults; please see our partner list.",
        "The person now has housing and a lawyer.",
    ],
    # A blank encrypted field of a live case is stored sealed, as the field would save it.
    "blank": [""],
}


def weighted(pairs):
    values, weights = zip(*pairs, strict=True)
    return list(values), list(weights)


def texts_pool() -> dict[str, list[str]]:
    return {kind: list(texts) for kind, texts in TEXTS.items()}


def make_partners() -> dict[int, tuple[int, float]]:
    """The made-up partners, loaded as a content file would be: {pk: (stated days, real
    mean days to a first answer)}."""
    from resources.loader import LoadReport, load_organisation
    from resources.models import Need

    partners = {}
    for slug, days, speed in PARTNERS:
        organisation = load_organisation(
            {
                "slug": slug,
                "name": slug.replace("-", " ").title(),
                "needs": list(Need.objects.values_list("slug", flat=True)),
                "languages": ["en", "fr", "ar"],
                "verified_on": date(2026, 12, 1),
                "takes_referrals": True,
                "referral_address": f"referrals@{slug}.example.org",
                "answer_days": days,
                "translations": {"en": {"offers": "A made-up partner for the benchmark."}},
            },
            update=False,
            report=LoadReport(),
        )
        partners[organisation.pk] = (days, speed)
    return partners


def recreate_database() -> None:
    with psycopg.connect(f"{environment.PG}/postgres", autocommit=True) as conn:
        for database in (environment.DATABASE, environment.KEYS_DATABASE):
            conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {database}")


def reference(i: int) -> str:
    # A bijection on 30**8 (the multiplier is prime to 30): unique, random-looking.
    from helpdesk.cases import REFERENCE_ALPHABET

    n = (i * 1_000_003 + 123_457) % 30**8
    out = []
    for _ in range(8):
        n, digit = divmod(n, 30)
        out.append(REFERENCE_ALPHABET[digit])
    return "".join(out)


def make_staff(rng: random.Random):
    from django.contrib.auth.hashers import make_password

    from helpdesk.models import User, VolunteerProfile
    from helpdesk.roles import Role
    from resources.models import Language, Need

    languages = {language.code: language for language in Language.objects.all()}
    needs = list(Need.objects.all())
    password = make_password(PASSWORD)
    users = [
        User(
            email=COORDINATOR_EMAIL,
            password=password,
            role=Role.COORDINATOR,
            first_name="Coordinator",
            is_staff=True,
        )
    ]
    codes, weights = weighted(LANGUAGES)
    plans = []
    for n in range(VOLUNTEERS):
        spoken = {"en"} if rng.random() < 0.7 else set()
        while len(spoken) < rng.choice((1, 2, 2, 3)):
            spoken.add(rng.choices(codes, weights)[0])
        trained = rng.sample(needs, rng.choice((1, 1, 2, 2, 3)))
        plans.append((spoken, trained, rng.choice((3, 5, 5, 5, 8))))
        users.append(
            User(
                email=f"volunteer{n:03d}@haven.test",
                password=password,
                role=Role.VOLUNTEER,
                first_name=f"Volunteer {n}",
            )
        )
    users = User.objects.bulk_create(users)
    coordinator, volunteers = users[0], users[1:]
    profiles = VolunteerProfile.objects.bulk_create(
        [VolunteerProfile(user=coordinator, capacity=5)]
        + [
            VolunteerProfile(user=user, capacity=plan[2])
            for user, plan in zip(volunteers, plans, strict=True)
        ]
    )
    coordinator_plan = (set(languages), needs, 5)
    through_languages = VolunteerProfile.languages.through
    through_needs = VolunteerProfile.needs.through
    lang_rows, need_rows = [], []
    for profile, (spoken, trained, _) in zip(profiles, [coordinator_plan, *plans], strict=True):
        lang_rows += [
            through_languages(volunteerprofile=profile, language=languages[c]) for c in spoken
        ]
        need_rows += [through_needs(volunteerprofile=profile, need=need) for need in trained]
    through_languages.objects.bulk_create(lang_rows)
    through_needs.objects.bulk_create(need_rows)
    staff = [
        {
            "id": user.pk,
            "languages": spoken,
            "needs": {need.pk for need in trained},
            "capacity": capacity,
        }
        for user, (spoken, trained, capacity) in zip(volunteers, plans, strict=True)
    ]
    return coordinator, staff, needs


CASE_COLUMNS = [
    "id",
    "reference",
    "receipt_hash",
    "submission_key",
    "for_whom",
    "need_id",
    "country",
    "languages",
    "language",
    "urgent",
    "description",
    "contact_channel",
    "contact_details",
    "contact_safe_times",
    "contact_code_word",
    "status",
    "created_at",
    "needs_routing",
    "volunteer_id",
    "pool_notified_at",
    "submitter_seen_at",
    "closed_at",
    "close_reason",
    "first_response_at",
    "escalated_at",
    "content_destroyed_at",
    "destroyed_by_submitter",
    "key_id",
]
MESSAGE_COLUMNS = ["case_id", "author", "staff_user_id", "body", "created_at", "kind", "language"]
NOTE_COLUMNS = ["case_id", "author_id", "body", "created_at"]
ASSIGNMENT_COLUMNS = [
    "case_id",
    "volunteer_id",
    "assigned_at",
    "opened_at",
    "ended_at",
    "end_reason",
]
REFERRAL_COLUMNS = [
    "id",
    "case_id",
    "organisation_id",
    "template_id",
    "language",
    "subject",
    "body",
    "consent_at",
    "consent_by_id",
    "status",
    "created_by_id",
    "created_at",
    "sent_at",
    "first_answer_at",
    "outcome_at",
    "failure_reason",
    "outcome_note",
    "follow_up_on",
    "reminded_at",
    "partner_address",
    "partner_reminded_at",
    "stall_notified_at",
]
EVENT_COLUMNS = ["referral_id", "kind", "status", "at", "by_id", "by_partner", "note"]
KEY_COLUMNS = ["id", "wrapped", "created_at"]
# Made-up organisations that take referrals through Haven (never a real one: none has
# agreed), with their stated days to a first answer and how fast they really answer.
PARTNERS = (("bench-partner-quick", 2, 1.0), ("bench-partner-steady", 5, 4.0),
            ("bench-partner-slow", 7, 12.0))  # fmt: skip
PARTNER_DECLINES = ("out_of_mandate", "no_capacity", "not_covered", "other")
LOG_COLUMNS = ["case_id", "user_id", "action", "at"]


class Desk:
    """Generates the rows of one chunk of cases at a time."""

    def __init__(
        self,
        *,
        rng,
        now,
        total,
        staff,
        coordinator,
        needs,
        organisations,
        partners,
        templates,
        texts,
    ):
        self.rng, self.now, self.total = rng, now, total
        self.staff, self.coordinator, self.needs = staff, coordinator, needs
        self.organisations, self.templates, self.texts = organisations, templates, texts
        self.load = {member["id"]: 0 for member in staff}
        self.by_skill: dict[tuple[int, str], list[dict]] = {}
        for member in staff:
            for need in member["needs"]:
                for code in member["languages"]:
                    self.by_skill.setdefault((need, code), []).append(member)
        self.countries = weighted(COUNTRIES)
        self.codes = weighted(LANGUAGES)
        self.reasons = weighted(CLOSE_REASONS)
        self.channels = weighted(CHANNELS)
        # Some organisations answer slowly: the referral review should find them stalled.
        self.org_speed = {org: rng.choice((1.5, 3, 4, 6, 25)) for org in organisations}
        self.org_speed.update({org: speed for org, (_days, speed) in partners.items()})
        self.partners = partners
        self.referral_id = 0

    def pick(self, kind: str) -> str:
        return self.rng.choice(self.texts[kind])

    def new_key(self, rows, created) -> tuple[uuid.UUID, bytes]:
        """A case's data key, as new_data_key() makes it (its row goes to the key store)."""
        from helpdesk.encryption import crypter

        key_id, key = uuid.UUID(bytes=self.rng.randbytes(16), version=4), os.urandom(32)
        rows["datakey"].append((key_id, crypter().encrypt(key).decode("ascii"), created))
        return key_id, key

    def sealed(self, kind: str, key, field: str) -> str:
        """A text of `kind` sealed with the case's key for `field` (model.field, as the
        field seals it); "" once the content is destroyed."""
        from helpdesk.encryption import seal_with_key

        if key is None:
            return ""
        text = self.pick(kind)
        return seal_with_key(text, key_id=key[0], key=key[1], context=f"helpdesk.{field}")

    def skilled(self, need: int, languages: list[str]) -> list[dict]:
        for code in languages:
            if (need, code) in self.by_skill:
                return self.by_skill[(need, code)]
        return self.staff

    def chunk(self, first: int, last: int) -> dict[str, list[tuple]]:
        rng, now = self.rng, self.now
        rows = {
            name: []
            for name in (
                "case", "message", "note", "assignment", "referral", "event", "log", "datakey"
            )
        }  # fmt: skip
        span = 730 * 86400
        for i in range(first, last):
            # Oldest first; a little more traffic lately, as a desk grows.
            age = span * (1 - ((i + rng.random()) / self.total) ** 0.8)
            created = now - timedelta(seconds=age)
            days = age / 86400
            need = rng.choice(self.needs).pk
            first_language = rng.choices(*self.codes)[0]
            languages = [first_language]
            if rng.random() < 0.6:
                languages.append("en" if first_language != "en" else "fr")
            if rng.random() < 0.15:
                extra = rng.choices(*self.codes)[0]
                if extra not in languages:
                    languages.append(extra)
            urgent = rng.random() < 0.08
            if days <= 14:
                status = rng.choices(
                    ("new", "in_progress", "waiting", "referred", "closed"), (25, 35, 20, 10, 10)
                )[0]
            elif days <= 60:
                status = rng.choices(
                    ("in_progress", "waiting", "referred", "closed"), (8, 8, 4, 80)
                )[0]
            else:
                status = "closed" if rng.random() < 0.995 else "waiting"
            volunteer = None
            if status == "closed":
                volunteer = rng.choice(self.skilled(need, languages))["id"]
            else:
                for member in self.skilled(need, languages):
                    if self.load[member["id"]] < member["capacity"]:
                        volunteer = member["id"]
                        self.load[volunteer] += 1
                        break
                if volunteer is None:
                    status = "new"  # nobody free who fits: waiting in the pool
            closed_at = close_reason = None
            if status == "closed":
                closed_at = min(
                    created + timedelta(days=rng.uniform(0.5, 45)), now - timedelta(hours=1)
                )
                close_reason = rng.choices(*self.reasons)[0]
            destroyed = closed_at is not None and closed_at < now - timedelta(days=90)
            first_response = None
            if volunteer and (status != "new"):
                first_response = created + timedelta(hours=rng.uniform(0.2, 30))
                if first_response > now:
                    first_response = None
            seen = closed_at or min(created + timedelta(days=rng.uniform(0, 10)), now)
            channel = rng.choices(*self.channels)[0]
            content = not destroyed
            key = self.new_key(rows, created) if content else None
            contact = content and channel != "none"
            rows["case"].append(
                (
                    i,
                    reference(i),
                    hashlib.sha256(b"r%d" % i).hexdigest()
                    if content
                    else "destroyed:" + hashlib.sha256(b"d%d" % i).hexdigest()[:40],
                    hashlib.sha256(b"k%d" % i).hexdigest() if content else None,
                    "self" if rng.random() < 0.8 else "other",
                    need,
                    rng.choices(*self.countries)[0],
                    json.dumps(languages),
                    first_language,
                    urgent,
                    self.sealed("description", key, "case.description"),
                    channel if content else "none",
                    self.sealed("contact" if contact else "blank", key, "case.contact_details"),
                    self.sealed("times" if contact else "blank", key, "case.contact_safe_times"),
                    self.sealed(
                        "code" if content and rng.random() < 0.3 else "blank",
                        key,
                        "case.contact_code_word",
                    ),
                    status,
                    created,
                    False,
                    volunteer,
                    created + timedelta(minutes=2) if volunteer is None else None,
                    seen,
                    closed_at,
                    close_reason or "",
                    first_response,
                    created + timedelta(hours=3) if urgent and first_response is None else None,
                    closed_at + timedelta(days=90) if destroyed else None,
                    destroyed and close_reason == "deleted",
                    key[0] if key else None,
                )
            )
            if volunteer:
                assigned = created + timedelta(minutes=rng.uniform(1, 120))
                rows["assignment"].append(
                    (
                        i,
                        volunteer,
                        assigned,
                        assigned + timedelta(minutes=rng.uniform(5, 600)),
                        closed_at,
                        "closed" if closed_at else "",
                    )
                )
                rows["log"].append((i, volunteer, "view", assigned + timedelta(minutes=10)))
            if content:
                t = created
                count = {"new": rng.randint(0, 1)}.get(status, rng.randint(1, 6))
                for n in range(count):
                    t = t + timedelta(hours=rng.uniform(0.5, 40))
                    if t > now:
                        break
                    staff_turn = bool(volunteer) and n % 2 == 0
                    rows["message"].append(
                        (
                            i,
                            "staff" if staff_turn else "submitter",
                            volunteer if staff_turn else None,
                            self.sealed(
                                "staff" if staff_turn else "submitter", key, "message.body"
                            ),
                            t,
                            "text",
                            "",
                        )
                    )
                    if staff_turn:
                        rows["log"].append((i, volunteer, "reply", t))
                if volunteer and rng.random() < 0.35:
                    rows["note"].append(
                        (
                            i,
                            volunteer,
                            self.sealed("note", key, "note.body"),
                            created + timedelta(hours=rng.uniform(1, 48)),
                        )
                    )
            if volunteer and (
                status == "referred" or close_reason == "referred" or rng.random() < 0.05
            ):
                self.referral(
                    rows,
                    i,
                    created,
                    volunteer,
                    first_language,
                    key,
                    open_case=status != "closed",
                )
        return rows

    def referral(self, rows, case_id, created, volunteer, language, key, *, open_case):
        rng, now = self.rng, self.now
        self.referral_id += 1
        rid = self.referral_id
        org = rng.choice(self.organisations)
        made = min(created + timedelta(days=rng.uniform(0.5, 6)), now - timedelta(minutes=30))
        age = (now - made).days
        sent = made + timedelta(hours=rng.uniform(0.1, 24))
        if sent > now:
            sent = None
        speed = self.org_speed[org]
        answer = outcome = None
        if sent is None:
            status = "drafted"
        else:
            answer = sent + timedelta(days=rng.expovariate(1 / speed))
            if answer > now or rng.random() < 0.12:
                answer = None
            if answer is None:
                status = "no_response" if age > 30 else "sent"
            elif age < 10 and open_case:
                status = rng.choice(("acknowledged", "accepted"))
            else:
                status = rng.choices(
                    ("acknowledged", "accepted", "declined", "completed"), (8, 22, 20, 50)
                )[0]
            if status in {"declined", "completed", "no_response"}:
                outcome = min((answer or sent) + timedelta(days=rng.uniform(1, 30)), now)
        failure = ""
        if status == "declined":
            failure = rng.choice(("no_capacity", "criteria", "unreachable", "other"))
        elif status == "no_response":
            failure = "unreachable"
        partner = org in self.partners
        if status == "declined" and partner:
            failure = rng.choice(PARTNER_DECLINES)
        follow_up = None
        if status in {"sent", "acknowledged", "accepted"}:
            follow_up = (sent + timedelta(days=7)).date()
        reminded = stall = None
        if partner and sent:
            stated = timedelta(days=self.partners[org][0])
            waited = (answer or now) - sent
            reminded = sent + stated if waited > stated else None
            stall = sent + 2 * stated if waited > 2 * stated else None
        rows["referral"].append(
            (
                rid,
                case_id,
                org,
                rng.choice(self.templates) if self.templates else None,
                language,
                self.sealed("subject", key, "referral.subject"),
                self.sealed("referral", key, "referral.body"),
                made,
                volunteer,
                status,
                volunteer,
                made,
                sent,
                answer,
                outcome,
                failure,
                self.sealed("outcome" if outcome else "blank", key, "referral.outcome_note"),
                follow_up,
                None,
                f"referrals@{org}.example.org" if partner and sent else "",
                reminded,
                stall,
            )
        )
        def sealed_note(kind: str) -> str:
            return self.sealed(kind, key, "referralevent.note")

        blank = sealed_note("blank")

        def event(status, at, *, by_partner=False, kind="status", note=blank):
            by = None if by_partner else volunteer
            rows["event"].append((rid, kind, status, at, by, by_partner, note))
            if by_partner:
                rows["log"].append((case_id, None, "partner", at))

        event("drafted", made)
        if sent:
            event("sent", sent)
        # A partner's answers are its own; the desk records only "no response".
        said = sealed_note("partner") if key is not None and partner else blank
        if answer:
            first = "acknowledged" if status != "declined" else "declined"
            event(first, answer, by_partner=partner, note=said if first == "declined" else blank)
            if status not in {first, "sent"}:
                event(status, outcome or answer, by_partner=partner, note=said)
            if partner and rng.random() < 0.2:
                event(status, answer + timedelta(hours=2), by_partner=True, kind="message",
                      note=said)  # fmt: skip
        elif status == "no_response":
            event(status, outcome)
        rows["log"].append((case_id, volunteer, "referral", made))


TABLES = {
    "case": ("helpdesk_case", CASE_COLUMNS),
    "message": ("helpdesk_message", MESSAGE_COLUMNS),
    "note": ("helpdesk_note", NOTE_COLUMNS),
    "assignment": ("helpdesk_assignment", ASSIGNMENT_COLUMNS),
    "referral": ("helpdesk_referral", REFERRAL_COLUMNS),
    "event": ("helpdesk_referralevent", EVENT_COLUMNS),
    "log": ("helpdesk_accesslogentry", LOG_COLUMNS),
}
# In the key store's database.
KEY_TABLES = {"datakey": ("keystore_datakey", KEY_COLUMNS)}


def copy_rows(cursor, table: str, columns: list[str], rows: list[tuple]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.monotonic()

    def lap(label: str, since: float) -> float:
        moment = time.monotonic()
        print(f"  {label:<34} {moment - since:7.1f} s", flush=True)
        return moment

    print(f"Seeding {args.cases:,} cases into {environment.DATABASE}")
    recreate_database()
    environment.apply()
    import django

    django.setup()
    from django.db import connection, connections
    from django.utils import timezone

    from resources.loader import load_resources
    from resources.models import Organisation, ReferralTemplate

    t = lap("database dropped and created", started)
    environment.migrate()
    t = lap("migrations", t)
    load_resources()
    partners = make_partners()
    t = lap("library (load_resources) and 3 made-up partners", t)
    coordinator, staff, needs = make_staff(rng)
    t = lap(f"{VOLUNTEERS} volunteers and a coordinator", t)
    texts = texts_pool()

    desk = Desk(
        rng=rng,
        now=timezone.now(),
        total=args.cases,
        staff=staff,
        coordinator=coordinator,
        needs=needs,
        organisations=list(Organisation.objects.values_list("pk", flat=True)),
        partners=partners,
        templates=list(ReferralTemplate.objects.values_list("pk", flat=True)),
        texts=texts,
    )
    counts = dict.fromkeys([*TABLES, *KEY_TABLES], 0)
    connection.ensure_connection()
    raw = connection.connection
    connections["keys"].ensure_connection()
    keys_raw = connections["keys"].connection
    with raw.cursor() as cursor, keys_raw.cursor() as keys_cursor:
        for first in range(1, args.cases + 1, CHUNK):
            rows = desk.chunk(first, min(first + CHUNK, args.cases + 1))
            with keys_raw.transaction():
                for name, (table, columns) in KEY_TABLES.items():
                    copy_rows(keys_cursor, table, columns, rows[name])
                    counts[name] += len(rows[name])
            with raw.transaction():
                for name, (table, columns) in TABLES.items():
                    copy_rows(cursor, table, columns, rows[name])
                    counts[name] += len(rows[name])
            print(f"    {min(first + CHUNK - 1, args.cases):>9,} cases", flush=True)
        t = lap("rows copied", t)
        for table, _ in TABLES.values():
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            highest = f"SELECT coalesce(max(id), 1) FROM {table}"  # noqa: S608 - our names
            cursor.execute(f"SELECT setval({sequence}, ({highest}))")
        cursor.execute("VACUUM ANALYZE") if raw.autocommit else cursor.execute("ANALYZE")
        keys_cursor.execute("ANALYZE")
        t = lap("sequences and ANALYZE", t)
    from helpdesk.rollups import rebuild, tidy

    rollup_rows = rebuild()  # what `manage.py rebuild_rollups` does
    tidy()
    t = lap(f"rollups rebuilt and vacuumed ({rollup_rows:,} rows)", t)
    tables = {**TABLES, **KEY_TABLES}
    for name, count in counts.items():
        print(f"  {tables[name][0]:<26} {count:>10,} rows")
    print(f"Seeded in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
