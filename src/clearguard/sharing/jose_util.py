"""Strict JOSE helpers shared by the SD-JWT and package cores (pure: no I/O).

We read headers, payloads and Disclosures ourselves before (and besides) joserfc's checks, so our
decoder must be as strict as a signature: the URL-safe alphabet only, no padding, and the canonical
encoding of what it decodes to (the unused low bits of the last character zero). Otherwise two
different strings could read as the same bytes, and a changed character go unnoticed.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Final

_B64URL: Final = re.compile(r"^[A-Za-z0-9_-]*$")


_URLSAFE: Final = bytes.maketrans(b"+/", b"-_")


def b64url_encode(data: bytes) -> str:
    # binascii directly: base64.urlsafe_b64encode is the same two C calls behind two Python frames,
    # and issuing a declaration encodes a hundred Disclosures and digests.
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode canonical unpadded base64url; ValueError on anything else."""
    if not _B64URL.match(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc
    if b64url_encode(data) != text:
        raise ValueError("not canonical base64url")
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"duplicate member {name!r}")
        result[name] = value
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads_strict(data: bytes) -> Any:
    """JSON (RFC 8259) from UTF-8 bytes, refusing duplicate member names and NaN/Infinity:
    two readers of the same bytes must see the same claims."""
    text = data.decode("utf-8")  # UnicodeDecodeError is a ValueError
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
