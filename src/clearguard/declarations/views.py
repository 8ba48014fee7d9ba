"""Declarations as a principal may see them: the redaction the API's routes and the portal's pages
share (one copy), on top of the DeclarationGate's policy, decryption and audit of every read."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from clearguard.access.policy import channel_for, view_for
from clearguard.access.principal import Principal
from clearguard.access.roles import Role
from clearguard.categories import DataCategory
from clearguard.declarations.categorised import category_at
from clearguard.declarations.gate import DeclarationGate, actor_of
from clearguard.declarations.results import ListFilter

DECLARANT_ROLES = frozenset({Role.TRADER, Role.BROKER})
_HOLD_READERS = frozenset({Role.OFFICER, Role.AUDITOR, Role.DPO})
# What a list filter matches on: a role whose view withholds one of these may not filter on it.
# Parties are traders (confidential) or natural persons (personal); an LRN is the declarant's own
# reference, confidential in the views that withhold confidential data.
PARTY_DATA = frozenset({DataCategory.CONFIDENTIAL, DataCategory.PERSONAL})
FILTER_DATA = {"party": PARTY_DATA, "lrn": frozenset({DataCategory.CONFIDENTIAL})}
_CHANNEL_IN_REASON = re.compile(r"\bchannel (\w+)")


def withheld(principal: Principal, item: dict[str, Any], *, reason_key: str | None = None) -> dict[str, Any]:
    """`item` (a summary, a declaration body or an event) as the principal's role may see it: the LRN
    and free-text reasons are confidential; traders and brokers see their lane, never a blue."""
    confidential = DataCategory.CONFIDENTIAL in view_for(principal.role).categories
    if "lrn" in item and not confidential:
        item["lrn"] = None
    if reason_key is not None and item.get(reason_key) is not None:
        if not confidential:
            item[reason_key] = None
        elif principal.role in DECLARANT_ROLES:
            item[reason_key] = _CHANNEL_IN_REASON.sub(
                lambda m: f"channel {channel_for(principal.role, m.group(1))}", item[reason_key]
            )
    if "channel" in item:
        item["channel"] = channel_for(principal.role, item["channel"])
    if not confidential and isinstance(item.get("document"), dict):
        item["document"].pop("lrn", None)
        item["redacted"] = sorted({*item.get("redacted", ()), DataCategory.CONFIDENTIAL.value})
        # A finding's message quotes its field's value: keep only those on fields the view shows.
        item["findings"] = [f for f in item.get("findings", []) if shown(principal, item["type"], f["pointer"])]
    return item


def shown(principal: Principal, declaration_type: str, at: str) -> bool:
    if at in ("", "/lrn"):
        return False
    path = tuple(int(t) if t.isdigit() else t.replace("~1", "/").replace("~0", "~") for t in at.split("/")[1:])
    return category_at(declaration_type, path) in view_for(principal.role).categories


def summaries(
    gate: DeclarationGate,
    principal: Principal,
    today: date,
    base: ListFilter,
    *,
    limit: int,
    cursor: str | None,
    source: str,
) -> tuple[list[dict[str, Any]], str | None]:
    """The declarations the principal may see (newest first), each redacted, and the next cursor."""
    scoped = gate.list_filter(principal, today, base)
    if scoped is None:
        return [], None
    page = gate.declarations.list(scoped, limit=limit, cursor=cursor, actor=actor_of(principal, source))
    return [withheld(principal, s.to_dict()) for s in page.items], page.next_cursor


def declaration(
    gate: DeclarationGate, principal: Principal, mrn: str, today: date, *, source: str, justification: str | None
) -> dict[str, Any]:
    """One declaration with its events, redacted to the principal's role; the read is audited."""
    body = gate.read(principal, mrn.upper(), today, source=source, justification=justification)
    events = gate.declarations.events(mrn.upper())
    retention = body.get("retention")
    if isinstance(retention, dict) and principal.role not in _HOLD_READERS:
        # Whether a legal hold keeps a declaration may concern an investigation: the DPO, officers
        # and auditors see it, the declarant does not.
        for key in ("held", "holds", "request_open"):
            retention.pop(key, None)
    if principal.role in DECLARANT_ROLES:
        # Declarants see what happened and why, not which officer did it (staff are data subjects too).
        events = [{k: v for k, v in e.items() if k != "actor"} for e in events]
    body["events"] = [withheld(principal, e, reason_key="reason") for e in events]
    return withheld(principal, body)
