"""What an agreement lets leave, decided field by field. Pure: no I/O.

Three fates for a value of a declaration:
- outside the agreement's categories: it never enters the SD-JWT, not even as a digest (a salted
  digest hides a value, but its presence would still say the field exists);
- inside the categories but outside the agreement's field paths: it enters as a withheld disclosure,
  so the package carries only its digest (verifiable if the value is ever disclosed later);
- inside both: disclosed.
With pseudonymisation, a party's identity (EORI, name, street, city, postcode, contact) and the LRN
(the trader's own reference) never leave; the party's `eori` (or, without one, its `name`) carries
the per-partner keyed pseudonym instead, whatever the categories, so the partner links records of
one trader without learning who it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from clearguard.access.policy import put_path
from clearguard.categories import DataCategory
from clearguard.crypto.fields import ERASED_TEXT
from clearguard.declarations.categorised import ListPlan, Plan, leaves, plan
from clearguard.sharing.errors import SharingInputError

Path = tuple[str | int, ...]
Shape = tuple[str, ...]
PSEUDONYM_PREFIX: Final = "pn:"
SHAREABLE: Final = frozenset(c for c in DataCategory if c is not DataCategory.BIOMETRIC)
# The JWT claims beside the declaration: always visible, never declaration fields.
ENVELOPE_CLAIMS: Final = frozenset({"iss", "iat", "jti", "vct"})
_IDENTITY: Final = (("name",), ("address", "street"), ("address", "city"), ("address", "postcode"), ("contact",))
TYPES: Final = ("H1", "H7")


def parse_categories(text: str) -> tuple[str, ...]:
    """`--allow code,trade`: known categories, never biometric; SharingInputError naming --allow."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise SharingInputError("--allow: name at least one data category", field="allow")
    known = {c.value for c in DataCategory}
    for name in names:
        if name not in known:
            raise SharingInputError(
                f"--allow: unknown data category {name!r} (known: {', '.join(sorted(known))})", field="allow"
            )
        if name == DataCategory.BIOMETRIC.value:
            raise SharingInputError("--allow: biometric data may never be shared under an agreement", field="allow")
    return tuple(sorted(set(names)))


def shape_of(path: Path) -> Shape:
    return tuple(t for t in path if isinstance(t, str))


def _node(node: Plan, shape: Shape) -> Plan | None:
    for token in shape:
        while isinstance(node, ListPlan):
            node = node.item
        if not isinstance(node, dict) or token not in node:
            return None
        node = node[token]
    return node


def _categories_under(node: Plan) -> set[DataCategory]:
    if isinstance(node, DataCategory):
        return {node}
    if isinstance(node, ListPlan):
        return _categories_under(node.item)
    found: set[DataCategory] = set()
    for child in node.values():
        found |= _categories_under(child)
    return found


def parse_fields(text: str | None, categories: Iterable[str]) -> tuple[str, ...]:
    """`--fields items/commodity_code,invoice/currency`: slash-separated field names (list positions
    left out), each naming a field of H1 or H7 with at least one value in an allowed category."""
    if text is None or not text.strip():
        return ()
    allowed = {DataCategory(c) for c in categories}
    out: list[str] = []
    for raw in text.split(","):
        field = raw.strip().strip("/")
        if not field:
            continue
        shape = tuple(field.split("/"))
        nodes = [n for t in TYPES if (n := _node(plan(t), shape)) is not None]
        if not nodes:
            raise SharingInputError(f"--fields: {field!r} is not a field of an H1 or H7 declaration", field="fields")
        if not any(_categories_under(n) & allowed for n in nodes):
            raise SharingInputError(f"--fields: {field!r} holds no value of an allowed category", field="fields")
        out.append("/".join(shape))
    return tuple(sorted(set(out)))


@cache
def parties(declaration_type: str) -> frozenset[str]:
    """The top-level party objects of a declaration type (they have a name and an address)."""
    root = plan(declaration_type)
    assert isinstance(root, dict)
    return frozenset(k for k, v in root.items() if isinstance(v, dict) and "name" in v and "address" in v)


def known_category(declaration_type: str, shape: Shape) -> DataCategory | None:
    """The category of a leaf field, None when the declaration type has no such leaf."""
    node = _node(plan(declaration_type), shape)
    while isinstance(node, ListPlan):
        node = node.item
    return node if isinstance(node, DataCategory) else None


def pseudonym_slot(declaration_type: str, shape: Shape, has_eori: bool) -> bool:
    return len(shape) == 2 and shape[0] in parties(declaration_type) and shape[1] == ("eori" if has_eori else "name")


def _identity(declaration_type: str, shape: Shape) -> bool:
    if shape == ("lrn",):
        return True
    if not shape or shape[0] not in parties(declaration_type):
        return False
    rest = shape[1:]
    return rest[:1] == ("eori",) or any(rest[: len(p)] == p for p in _IDENTITY)


def within(fields: tuple[str, ...], shape: Shape) -> bool:
    if not fields:
        return True
    joined = "/".join(shape)
    return any(joined == f or joined.startswith(f + "/") for f in fields)


@dataclass(frozen=True)
class Selection:
    claims: dict[str, Any]  # what enters the SD-JWT (beside the envelope claims)
    disclosed: frozenset[Path]  # leaf paths whose disclosures travel
    pseudonyms: tuple[tuple[str, str, str], ...]  # (pseudonym, kind, identity) given out

    def keep(self, path: Path) -> bool:
        """For IssuedSdJwt.present: a leaf that is disclosed, or a container above one."""
        return any(p[: len(path)] == path for p in self.disclosed)


def _compact(value: Any) -> Any:
    """Lists whose leading elements were left out keep their positions as nulls; drop them."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_compact(v) for v in value if v is not None]
    return value


def select(
    declaration_type: str,
    document: dict[str, Any],
    *,
    categories: Iterable[str],
    fields: tuple[str, ...],
    pseudonymise: bool,
    pseudonym: Callable[[str, str], str],
) -> Selection:
    """The claims an agreement lets enter the SD-JWT, and which of them are disclosed.
    `pseudonym(kind, value)` is the per-partner keyed pseudonym ("eori" or "party" kinds)."""
    if declaration_type not in TYPES:
        raise SharingInputError(f"declaration type {declaration_type!r} cannot be shared", field="type")
    allowed = {DataCategory(c) for c in categories} & SHAREABLE
    claims: dict[str, Any] = {}
    disclosed: set[Path] = set()
    given: list[tuple[str, str, str]] = []
    for path, value in leaves(document):
        if value is None:
            continue
        shape = shape_of(path)
        category = known_category(declaration_type, shape)
        if category is None or category not in allowed:
            continue
        if pseudonymise and _identity(declaration_type, shape):
            continue
        put_path(claims, path, value)
        if within(fields, shape):
            disclosed.add(path)
    if pseudonymise:
        for party in sorted(parties(declaration_type)):
            data = document.get(party)
            if not isinstance(data, dict):
                continue
            if ERASED_TEXT in (data.get("eori"), data.get("name")):
                continue  # a shredded party: nothing left to pseudonymise, nothing leaves
            eori = data.get("eori")
            if isinstance(eori, str) and eori:
                kind, identity, slot = "eori", eori.strip().upper().replace(" ", ""), "eori"
            else:
                address = data.get("address") or {}
                parts = (data.get("name", ""), address.get("postcode") or "", address.get("country", ""))
                kind, identity, slot = "party", "|".join(" ".join(str(p).split()).upper() for p in parts), "name"
            value = pseudonym(kind, identity)
            claims.setdefault(party, {})[slot] = value
            disclosed.add((party, slot))
            given.append((value, kind, identity))
    compacted = _compact(claims)
    return Selection(compacted, frozenset(_reindex(compacted, disclosed, claims)), tuple(given))


def _reindex(compacted: dict[str, Any], disclosed: set[Path], original: dict[str, Any]) -> set[Path]:
    """Disclosed paths after _compact removed the nulls of left-out list elements."""
    out: set[Path] = set()
    for path in disclosed:
        node: Any = original
        new: list[str | int] = []
        for token in path:
            if isinstance(token, int):
                new.append(sum(1 for v in node[:token] if v is not None))
            else:
                new.append(token)
            node = node[token]
        out.add(tuple(new))
    return out


def check_received(
    declaration_type: str,
    claims: dict[str, Any],
    *,
    categories: Iterable[str],
    fields: tuple[str, ...],
    pseudonymise: bool,
) -> tuple[str, str] | None:
    """The receiver's schema and agreement check of disclosed claims: None when every disclosed
    value is a known field within the agreement, else (reason, detail) with reason unknown-field or
    outside-agreement."""
    if declaration_type not in TYPES:
        return "unknown-field", f"declaration type {declaration_type!r} is not known"
    allowed = {DataCategory(c) for c in categories} & SHAREABLE
    for path, value in leaves({k: v for k, v in claims.items() if k not in ENVELOPE_CLAIMS}):
        shape = shape_of(path)
        where = "/".join(str(t) for t in path)
        category = known_category(declaration_type, shape)
        if category is None:
            return "unknown-field", f"{where} is not a field of an {declaration_type} declaration"
        is_pseudonym = isinstance(value, str) and value.startswith(PSEUDONYM_PREFIX)
        if (
            pseudonymise
            and is_pseudonym
            and (pseudonym_slot(declaration_type, shape, True) or pseudonym_slot(declaration_type, shape, False))
        ):
            continue
        if category not in allowed:
            return "outside-agreement", f"{where} is {category.value}, which the agreement does not allow"
        if pseudonymise and _identity(declaration_type, shape):
            return "outside-agreement", f"{where} identifies a party, which a pseudonymised agreement forbids"
        if not within(fields, shape):
            return "outside-agreement", f"{where} is not among the agreement's fields"
    return None
