"""Logging filters that keep addresses, user agents and case content out of logs."""

import logging
import re


class DropRequestFilter(logging.Filter):
    """Django attaches the request (with its address and headers) to some records;
    no handler of ours may format it, so it is removed before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request"):
            record.request = None
        return True


# Mailed links carry their token in the path: a partner's link, an invitation, a set-up
# link. Django names the path in some records ("Not Found: /partner/…/", a refused
# CSRF check, the development server's request lines); the token never reaches a log.
LINK_TOKEN = re.compile(r"(/(?:partner|accounts/invitation|accounts/set-up)/)[^/\s\"'?]+")


def redact_link_tokens(text: str) -> str:
    return LINK_TOKEN.sub(r"\1…", text)


class RedactLinkTokensFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_link_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
