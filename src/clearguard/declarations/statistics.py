"""Declaration lines for statistics: the few fields a statistical release generalises, one dict per
goods item, read-only.

What each field is and its data category (clearguard.declaration_model):

    hs_code              items[].commodity_code                     code
    origin_country       items[].origin_country                     code
    dispatch_country     country_of_dispatch (H1)                   code
    office               office_of_presentation                     code
    procedure            procedure (H1)                             code
    transport_mode       transport.mode_at_border (H1)              code
    valuation_method     items[].valuation_method (H1)              code
    preferential_origin  items[].preferential_origin (H1)           code
    currency             invoice.currency                           code
    declaration_type     type                                       code
    net_mass             items[].net_mass_kg (H1)                   trade
    date                 the acceptance date (the declaration's header, as `declarations list --since`)
    statistical_value    items[].item_price (H1) or intrinsic_value (H7), times invoice.exchange_rate
                         (trade) when the invoice gives one                      confidential

The statistical value is the one confidential field: the declarant's `confidential:` group is opened
for it (the group is the unit of encryption) and nothing else of that group leaves this module; a
value sealed under a shredded key reads as None. Personal groups are never opened. The caller must
release the value only as bands. Only the current version of declarations accepted in [since,
until) and still in force (accepted, under control, held or released; not invalidated, rejected or
disposed of) count. The read is an audit event when an actor is given.
"""

from __future__ import annotations

import base64
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clearguard.categories import DataCategory
from clearguard.crypto.fields import ERASED_TEXT, Erased
from clearguard.declarations import documents
from clearguard.declarations.lifecycle import Status
from clearguard.declarations.planner import audit_events
from clearguard.declarations.ports import AuditRecorder, FieldVault
from clearguard.declarations.record_format import group_ref
from clearguard.declarations.results import Actor
from clearguard.declarations.tables import DeclarationRow, DeclarationVersionRow

IN_FORCE = (Status.ACCEPTED, Status.UNDER_CONTROL, Status.HELD, Status.RELEASED)
# The categories a line draws on, for checking against what an agreement allows.
LINE_CATEGORIES: dict[str, DataCategory | None] = {
    "hs_code": DataCategory.CODE,
    "origin_country": DataCategory.CODE,
    "dispatch_country": DataCategory.CODE,
    "office": DataCategory.CODE,
    "procedure": DataCategory.CODE,
    "transport_mode": DataCategory.CODE,
    "valuation_method": DataCategory.CODE,
    "preferential_origin": DataCategory.CODE,
    "currency": DataCategory.CODE,
    "declaration_type": DataCategory.CODE,
    "net_mass": DataCategory.TRADE,
    "date": None,  # header metadata: when the declaration was accepted
    "statistical_value": DataCategory.CONFIDENTIAL,
}
_BATCH = 500


def _decimal(value: Any) -> Decimal | None:
    if not isinstance(value, str) or value == ERASED_TEXT:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def lines_of(declaration_type: str, document: dict[str, Any], accepted: datetime) -> list[dict[str, Any]]:
    """The statistical lines of one declaration document (confidential group opened, none other)."""
    invoice = document.get("invoice") or {}
    rate = _decimal(invoice.get("exchange_rate"))
    transport = document.get("transport") or {}
    common = {
        "declaration_type": declaration_type,
        "date": accepted.date().isoformat(),
        "office": document.get("office_of_presentation"),
        "dispatch_country": document.get("country_of_dispatch"),
        "procedure": document.get("procedure"),
        "transport_mode": None if transport.get("mode_at_border") is None else str(transport["mode_at_border"]),
        "currency": invoice.get("currency"),
    }
    lines: list[dict[str, Any]] = []
    for item in document.get("items") or []:
        price = _decimal(item.get("item_price" if declaration_type == "H1" else "intrinsic_value"))
        value = price * rate if price is not None and rate is not None else price
        preferential = item.get("preferential_origin")
        valuation = item.get("valuation_method")
        lines.append(
            common
            | {
                "hs_code": item.get("commodity_code"),
                "origin_country": item.get("origin_country"),
                "net_mass": _decimal(item.get("net_mass_kg")),
                "valuation_method": None if valuation is None else str(valuation),
                "preferential_origin": None if preferential is None else ("yes" if preferential else "no"),
                "statistical_value": value,
            }
        )
    return lines


class StatisticalLines:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        read_factory: sessionmaker[Session],
        *,
        vault: FieldVault,
        audit: AuditRecorder | None = None,
    ) -> None:
        self._sf = session_factory
        self._read = read_factory
        self._vault = vault
        self._audit = audit

    def lines(self, since: datetime, until: datetime, *, actor: Actor | None = None) -> list[dict[str, Any]]:
        """Every line of the declarations in force accepted in [since, until), read in pages of
        declarations; with an actor, one audit event records the read (period and counts)."""
        declarations = 0
        out: list[dict[str, Any]] = []
        after = 0
        while True:
            with self._read() as session:
                rows = session.execute(
                    select(DeclarationRow, DeclarationVersionRow)
                    .join(
                        DeclarationVersionRow,
                        (DeclarationVersionRow.declaration_id == DeclarationRow.id)
                        & (DeclarationVersionRow.version == DeclarationRow.current_version),
                    )
                    .where(
                        DeclarationRow.id > after,
                        DeclarationRow.created_at >= since,
                        DeclarationRow.created_at < until,
                        DeclarationRow.disposal_run.is_(None),
                        DeclarationRow.status.in_([s.value for s in IN_FORCE]),
                    )
                    .order_by(DeclarationRow.id)
                    .limit(_BATCH)
                ).all()
                batch = [lines_of(row.type, self._open(session, row, vrow), row.created_at) for row, vrow in rows]
            for found in batch:
                out.extend(found)
            declarations += len(rows)
            if len(rows) < _BATCH:
                break
            after = rows[-1][0].id
        if actor is not None and self._audit is not None:
            details = {"since": since.isoformat(), "until": until.isoformat(), "declarations": declarations,
                       "lines": len(out), "opened": ["confidential:"]}  # fmt: skip
            with self._sf() as session, session.begin():
                self._audit.record_many(
                    session, audit_events(self._vault, "declaration.statistics", [(actor, None, None, details)])
                )
        return out

    def _open(self, session: Session, row: DeclarationRow, vrow: DeclarationVersionRow) -> dict[str, Any]:
        def reveal(name: str, category: DataCategory) -> bool:
            # The declarant's confidential group; a "/pointer" name is a field sealed alone (versions
            # stored before groups), opened only when it is confidential too.
            return category is DataCategory.CONFIDENTIAL and (name == "confidential:" or name.startswith("/"))

        def open_values(entries: list[tuple[str, list[Any]]]) -> list[Any]:
            plains = self._vault.open_many(
                session,
                [(int(e[1]), group_ref(row.mrn, name, vrow.version), base64.b64decode(e[2])) for name, e in entries],
            )
            return [ERASED_TEXT if isinstance(p, Erased) else orjson.loads(p) for p in plains]

        return documents.join(row.type, vrow.clear_doc, vrow.protected, reveal, open_values)
