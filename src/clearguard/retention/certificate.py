"""Disposal certificates: what a retention run disposed of, under which policies and periods, when
and by whom, as one canonical JSON document whose salted commitment is a ledger entry. Pure."""

from __future__ import annotations

import hashlib
from typing import Any, Final

import orjson

LEDGER_KIND: Final = "retention.disposal"


def record_id(run: int) -> str:
    return f"run-{run}"


def canonical(certificate: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes the commitment covers."""
    return orjson.dumps(certificate, option=orjson.OPT_SORT_KEYS)


def mrns_digest(mrns: list[str]) -> str:
    """SHA-256 of the sorted MRNs, one per line: what a published summary of the certificate quotes."""
    return hashlib.sha256("\n".join(sorted(mrns)).encode()).hexdigest()
