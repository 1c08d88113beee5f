"""What the desk writes into CSV files that coordinators open in a spreadsheet."""

from __future__ import annotations

# A cell starting with one of these is run as a formula by spreadsheets.
FORMULA_SIGNS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """A name a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(FORMULA_SIGNS) else value


def csv_number(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"
