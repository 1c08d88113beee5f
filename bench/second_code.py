"""Wall time of a receipt look-up with the real receipt, the second code and a wrong
code: they must not differ (tests/intake/test_second_code.py compares the work itself;
this measures, with a generous bound). Runs in-process on a throwaway embedded default
(SQLite under a temporary directory), interleaving the three kinds of code.

    python bench/second_code.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# A generous bound: the medians may differ by this share of the slowest, plus 2 ms.
BOUND_SHARE = 0.25
BOUND_MS = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    for name in ("DATABASE_URL", "KEYS_DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "HAVEN_VAR_DIR": tempfile.mkdtemp(prefix="haven-second-code-"),
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from helpdesk import cases
    from intake import receipts
    from resources.models import Need

    call_command("migrate", database="keys", verbosity=0, interactive=False)
    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    receipt, second = receipts.new_receipt(), receipts.new_receipt()
    case = cases.submit_concern(
        receipt_hash=receipts.receipt_hash(receipt), submission_key="bench", for_whom="self",
        need=Need.objects.first(), country="SY", languages=["ar"], language="ar",
        urgent=False, description="bench",
    )  # fmt: skip
    case.set_second_code(receipts.receipt_hash(second))
    codes = {"receipt": receipt, "second code": second}
    times: dict[str, list[float]] = {"receipt": [], "second code": [], "wrong code": []}
    for n in range(args.rounds):
        # Each round from its own address, so no throttle wait enters the figures.
        for kind in times:
            code = codes.get(kind) or receipts.new_receipt()
            address = f"10.{n // 250}.{n % 250}.{len(kind)}"
            client = Client(REMOTE_ADDR=address, HTTP_HOST="127.0.0.1")
            started = time.perf_counter()
            answer = client.post("/follow-up/", {"receipt": receipts.display(code)})
            assert answer.status_code == (400 if kind == "wrong code" else 302), answer
            times[kind].append((time.perf_counter() - started) * 1000)
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    for kind, values in times.items():
        p95 = statistics.quantiles(values, n=20)[18]
        print(f"{kind:<12} median {medians[kind]:6.2f} ms   p95 {p95:6.2f} ms   n={len(values)}")
    spread = max(medians.values()) - min(medians.values())
    bound = BOUND_SHARE * max(medians.values()) + BOUND_MS
    print(f"spread of the medians {spread:.2f} ms (bound {bound:.2f} ms)")
    if spread > bound:
        raise SystemExit("the look-ups differ in time beyond the bound")


if __name__ == "__main__":
    main()
