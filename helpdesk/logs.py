"""Logging filters that keep addresses, user agents and case content out of logs."""

import logging


class DropRequestFilter(logging.Filter):
    """Django attaches the request (with its address and headers) to some records;
    no handler of ours may format it, so it is removed before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request"):
            record.request = None
        return True
