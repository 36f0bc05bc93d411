"""Keep personal ID numbers out of log lines: URLs carry them (`/owners/{id}/documents`,
`?owner_id=`), and access logs print URLs. A filter masks every 9- or 12-digit number."""

from __future__ import annotations

import logging
import re

from storage.audit import mask_id

_ID = re.compile(r"(?<!\d)(\d{12}|\d{9})(?!\d)")
# loggers that print request URLs (server access log, the HTTP client used by tests/tools)
URL_LOGGERS = ("uvicorn.access", "uvicorn.error", "httpx", "fastapi")


def mask_ids(text: str) -> str:
    return _ID.sub(lambda m: mask_id(m.group(1)), text)


class MaskIds(logging.Filter):
    """Rewrites a record's message with ID numbers masked (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_ids(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install() -> None:
    """Mask IDs on the URL-printing loggers (idempotent)."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskIds) for f in logger.filters):
            logger.addFilter(MaskIds())
