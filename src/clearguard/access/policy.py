"""Access decisions, pure: who may see or act on which declaration, and what of it they see.

Order of checks on a record: may the principal know of it at all (no: 404, as if it did not exist),
then may it perform this action on it (no: 403). Roles without a permission never reach a record
(the route answers 403 first). Ownership is decided on every record by party, mandate or office.

Records name their declarant either by EORI or by a keyed blind index of it; callers pass
`party_key` (EORI -> whatever the record stores) so that the principal's parties compare alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from itertools import pairwise
from typing import Any, Final

from clearguard.access.errors import BreakGlassRequired, StepUpRequired
from clearguard.access.principal import Principal
from clearguard.access.roles import Perm, Role, holds
from clearguard.categories import DataCategory
from clearguard.errors import Forbidden, InputError, NotFound

PartyKey = Callable[[str], str]
MIN_JUSTIFICATION = 20


def _same(eori: str) -> str:
    return eori


@dataclass(frozen=True, slots=True)
class RecordRef:
    """What the policy needs to know of a declaration: its declarant (as stored) and office."""

    mrn: str
    party: str
    office: str


class Visibility(Enum):
    HIDDEN = "hidden"
    VISIBLE = "visible"
    # An officer of another office: visible only by break-glass.
    BREAK_GLASS = "break-glass"


# Roles that see every office's declarations (redacted to what their View allows).
_CROSS_OFFICE: Final = frozenset({Role.RISK_ANALYST, Role.AUDITOR})


def acting_parties(principal: Principal, today: date) -> frozenset[str]:
    """Parties the principal acts for: its own, plus mandating traders for a broker."""
    parties = {principal.party_eori} if principal.party_eori else set()
    if principal.role is Role.BROKER:
        parties |= principal.mandated_parties(today)
    return frozenset(parties)


def visibility(principal: Principal, ref: RecordRef, today: date, party_key: PartyKey = _same) -> Visibility:
    if not holds(principal.role, Perm.DECLARATIONS_READ):
        return Visibility.HIDDEN
    if principal.role in (Role.TRADER, Role.BROKER):
        keys = {party_key(p) for p in acting_parties(principal, today)}
        return Visibility.VISIBLE if ref.party in keys else Visibility.HIDDEN
    if principal.role is Role.OFFICER:
        return Visibility.VISIBLE if ref.office == principal.office else Visibility.BREAK_GLASS
    if principal.role in _CROSS_OFFICE:
        return Visibility.VISIBLE
    return Visibility.HIDDEN


@dataclass(frozen=True, slots=True)
class ReadGrant:
    """Permission to read one record; `break_glass` reads must be audited as such and flagged."""

    view: View
    break_glass: bool = False
    justification: str | None = None


def authorize_read(
    principal: Principal,
    ref: RecordRef,
    today: date,
    *,
    justification: str | None = None,
    party_key: PartyKey = _same,
) -> ReadGrant:
    seen = visibility(principal, ref, today, party_key)
    if seen is Visibility.HIDDEN:
        raise NotFound(f"declaration {ref.mrn} not found")
    if seen is Visibility.BREAK_GLASS:
        text = (justification or "").strip()
        if not text:
            raise BreakGlassRequired(
                f"declaration {ref.mrn} belongs to another office: give a justification to break glass",
                field="justification",
            )
        if len(text) < MIN_JUSTIFICATION:
            raise InputError(
                f"justification: at least {MIN_JUSTIFICATION} characters saying why", field="justification"
            )
        return ReadGrant(view=view_for(principal.role), break_glass=True, justification=text)
    return ReadGrant(view=view_for(principal.role))


class Action(Enum):
    AMEND = Perm.DECLARATIONS_AMEND
    DECIDE = Perm.DECLARATIONS_DECIDE
    EXPORT = Perm.DECLARATIONS_EXPORT


def authorize_action(
    principal: Principal, ref: RecordRef, action: Action, today: date, *, party_key: PartyKey = _same
) -> None:
    """404 if the record is hidden from the principal, 403 if visible but the action is not theirs.
    Break-glass opens a record for reading only; it never lets an officer decide for another office."""
    seen = visibility(principal, ref, today, party_key)
    if seen is Visibility.HIDDEN:
        raise NotFound(f"declaration {ref.mrn} not found")
    if not holds(principal.role, action.value):
        raise Forbidden(f"{principal.role.value} may not {action.name.lower()} declarations")
    if seen is Visibility.BREAK_GLASS:
        raise Forbidden(f"declaration {ref.mrn} belongs to another office: {action.name.lower()} refused")


def authorize_lodge(principal: Principal, declarant_eori: str, today: date) -> None:
    """A trader lodges for itself, a broker for a trader with a current mandate (or itself)."""
    if not holds(principal.role, Perm.DECLARATIONS_LODGE):
        raise Forbidden(f"{principal.role.value} may not lodge declarations")
    if declarant_eori not in acting_parties(principal, today):
        if principal.role is Role.BROKER:
            detail = f"declarant.eori: no current mandate from {declarant_eori}"
        else:
            detail = f"declarant.eori: {principal.role.value} may lodge only for its own party"
        raise Forbidden(detail, field="declarant.eori")


@dataclass(frozen=True, slots=True)
class ListScope:
    """Filters a list query must apply; None means no restriction on that dimension."""

    parties: frozenset[str] | None
    offices: frozenset[str] | None

    @property
    def empty(self) -> bool:
        return (self.parties is not None and not self.parties) or (self.offices is not None and not self.offices)


def list_scope(principal: Principal, today: date) -> ListScope:
    if not holds(principal.role, Perm.DECLARATIONS_READ):
        raise Forbidden(f"{principal.role.value} may not read declarations")
    if principal.role in (Role.TRADER, Role.BROKER):
        return ListScope(parties=acting_parties(principal, today), offices=None)
    if principal.role is Role.OFFICER:
        return ListScope(parties=None, offices=frozenset({principal.office} if principal.office else ()))
    return ListScope(parties=None, offices=None)


def require_recent_mfa(principal: Principal, now: datetime, *, window_seconds: int = 300) -> None:
    """Step-up: officer decisions, exports, key operations, role changes need a fresh MFA proof."""
    if principal.mfa_at is None or now - principal.mfa_at > timedelta(seconds=window_seconds):
        raise StepUpRequired(
            f"this action needs a second factor within the last {window_seconds // 60} minutes: "
            "POST /api/v1/auth/step-up/totp or /api/v1/auth/step-up/webauthn",
            extra={"max_age": window_seconds},
        )


# ------------------------------------------------------------------ redaction
@dataclass(frozen=True, slots=True)
class View:
    """What of a declaration a role sees: content categories, and risk data (scores, reasons)."""

    categories: frozenset[DataCategory]
    risk: bool

    @property
    def contents(self) -> bool:
        return bool(self.categories)


ALL_CATEGORIES: Final = frozenset(DataCategory)
_VIEWS: Final[Mapping[Role, View]] = {
    Role.TRADER: View(ALL_CATEGORIES, risk=False),
    # A broker never sees risk data (DESIGN.md, roles).
    Role.BROKER: View(ALL_CATEGORIES, risk=False),
    Role.OFFICER: View(ALL_CATEGORIES, risk=True),
    # Pseudonymised: no confidential, personal or biometric values.
    Role.RISK_ANALYST: View(frozenset({DataCategory.CODE, DataCategory.TRADE}), risk=True),
    # Metadata only (MRN, status, dates): no declaration contents unless granted.
    Role.AUDITOR: View(frozenset(), risk=False),
}
_NOTHING: Final = View(frozenset(), risk=False)


def view_for(role: Role) -> View:
    return _VIEWS.get(role, _NOTHING)


def refuse_withheld_filters(principal: Principal, used: Mapping[str, frozenset[DataCategory]]) -> None:
    """Forbidden (403, naming the filter) for a filter on data the principal's view withholds: which
    records match would reveal it (an auditor asking `party=` learns who imported what)."""
    view = view_for(principal.role)
    for name, categories in used.items():
        hidden = sorted(c.value for c in categories - view.categories)
        if hidden:
            raise Forbidden(
                f"{name}: the {principal.role.value} view withholds {' and '.join(hidden)} data, "
                "and a filter on withheld data is refused",
                field=name,
            )


# A declarant sees the lane it acts on: green (go), yellow (documents), red (physical control). A
# blue selection (post-clearance audit) is risk data: it sees the green it was released as.
_DECLARANT_CHANNELS: Final = {"blue": "green"}


def channel_for(role: Role, channel: str | None) -> str | None:
    if channel is not None and role in (Role.TRADER, Role.BROKER):
        return _DECLARANT_CHANNELS.get(channel, channel)
    return channel


Path = tuple[str | int, ...]


def redact_document(
    doc: Mapping[str, Any], categorised: Iterable[tuple[Path, Any, DataCategory]], view: View
) -> tuple[dict[str, Any], list[str]]:
    """(copy of `doc` keeping only leaves whose category the view allows, withheld categories).

    `categorised` yields (path, value, category) for every leaf (declarations.categorised.categorise).
    Withheld object members are dropped; withheld array elements become null so indexes stay put;
    objects left empty are dropped.
    """
    out: dict[str, Any] = {}
    withheld: set[str] = set()
    for path, value, category in categorised:
        if category not in view.categories:
            withheld.add(category.value)
            continue
        put_path(out, path, value)
    return out, sorted(withheld)


def put_path(doc: dict[str, Any], path: Path, value: Any) -> None:
    """Set `value` at `path` in `doc`, creating the objects and lists on the way (lists padded)."""
    node: Any = doc
    for here, nxt in pairwise(path):
        blank: Any = [] if isinstance(nxt, int) else {}
        if isinstance(here, int):
            while len(node) <= here:
                node.append(None)
            if node[here] is None:
                node[here] = blank
            node = node[here]
        else:
            node = node.setdefault(here, blank)
    last = path[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
        node[last] = value
    else:
        node[last] = value
