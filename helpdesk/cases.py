"""A new case: the one workflow that makes a case, called by the intake view, the demo
loader, the benchmarks and the tests alike. Everything that happens to a case after
that is a method of Case (helpdesk/models.py)."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction

from helpdesk import queue
from helpdesk.encryption import destroy_data_key, new_data_key
from helpdesk.models import Case
from resources.models import Need

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_ATTEMPTS = 3


class DuplicateSubmission(Exception):
    """The same form was sent twice (a reload or a double click)."""


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def submit_concern(
    *,
    receipt_hash: str,
    submission_key: str,
    for_whom: str,
    need: Need,
    country: str,
    languages: list[str],
    language: str,
    urgent: bool,
    description: str,
    contact_channel: str = Case.Channel.NONE,
    contact_details: str = "",
    contact_safe_times: str = "",
    contact_code_word: str = "",
) -> Case:
    """Save a new concern in one transaction and hand it to routing after commit. The
    case is marked as waiting for routing, so the sweep finds it if the queue is down.
    Its data key is made first, in the key store; a refused submission destroys it."""
    key_id = new_data_key()
    try:
        for attempt in range(REFERENCE_ATTEMPTS):
            try:
                with transaction.atomic():
                    case = Case.objects.create(
                        reference=new_reference(),
                        key_id=key_id,
                        receipt_hash=receipt_hash,
                        submission_key=submission_key,
                        for_whom=for_whom,
                        need=need,
                        country=country,
                        languages=languages,
                        language=language,
                        urgent=urgent,
                        description=description,
                        contact_channel=contact_channel,
                        contact_details=contact_details,
                        contact_safe_times=contact_safe_times,
                        contact_code_word=contact_code_word,
                        needs_routing=True,
                    )
                    # If the broker cannot be reached the case keeps `needs_routing` and
                    # the sweep routes it (helpdesk/pool.py): nothing is lost.
                    queue.after_commit("route_case", case.pk)
                return case
            except IntegrityError:
                if Case.objects.filter(submission_key=submission_key).exists():
                    raise DuplicateSubmission from None
                # Else the short reference met one in use (one in ~10^6 at a million
                # cases): draw another rather than answer with an error.
                if attempt == REFERENCE_ATTEMPTS - 1:
                    raise
    except BaseException:
        destroy_data_key(key_id)
        raise
