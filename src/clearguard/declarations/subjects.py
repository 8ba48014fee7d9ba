"""A data subject's declarations, found through the blind indexes and opened for a subject access
report (GDPR Art. 15) and nothing else.

A subject is a trader (its EORI) or a natural person (name, postcode, country). The declarations it
appears in, in any role and any version, are found in `declaration_parties` without decrypting: by
the subject's party reference (whose key seals its fields), by the blind index of its EORI, or for a
person named where no key of its own seals it (an H1 importer without EORI) by the blind index of its
name, confirmed against the decrypted postcode and country so that a namesake is never reported.

What a report shows of each version: the whole document where the subject is the declarant (its own
declaration); otherwise the declaration's non-party fields and the subject's own party sections, the
other parties' sections withheld (they are someone else's data).
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from clearguard.crypto.fields import ERASED_TEXT, Erased
from clearguard.declarations import documents, parties
from clearguard.declarations.planner import PARTY_ROLES
from clearguard.declarations.ports import BlindIndexer, FieldVault
from clearguard.declarations.record_format import group_ref
from clearguard.declarations.tables import DeclarationPartyRow, DeclarationRow, DeclarationVersionRow


@dataclass(frozen=True, slots=True)
class SubjectKey:
    """How a subject is found: its party reference, and the blind indexes it may appear under."""

    party_ref: str  # eori:<hex> or person:<hex>, as declarations.parties makes it
    eori_index: str | None = None
    name_index: str | None = None
    # A person named under another party's key is confirmed by its decrypted address.
    postcode: str | None = None
    country: str | None = None

    @property
    def is_person(self) -> bool:
        return self.party_ref.startswith("person:")


def trader_subject(indexer: BlindIndexer, eori: str) -> SubjectKey:
    ref = parties.trader_ref(indexer, eori)
    return SubjectKey(ref, eori_index=ref.removeprefix("eori:"))


def person_subject(indexer: BlindIndexer, name: str, postcode: str | None, country: str) -> SubjectKey:
    return SubjectKey(
        parties.person_ref(indexer, name, postcode, country),
        name_index=indexer.blind_index("name", parties.normalise_name(name)),
        postcode=parties.normalise_name(postcode or ""),
        country=country.strip().upper(),
    )


def _same_person(subject: SubjectKey, section: Any) -> bool:
    if not isinstance(section, dict):
        return False
    address = section.get("address")
    if not isinstance(address, dict):
        return False
    postcode = parties.normalise_name(str(address.get("postcode") or ""))
    return postcode == subject.postcode and str(address.get("country", "")).upper() == subject.country


def shown_to_subject(
    doc: dict[str, Any], declaration_type: str, roles: Sequence[str]
) -> tuple[dict[str, Any], list[str]]:
    """(what a report shows of a document to a subject appearing in `roles`, the roles withheld)."""
    if "declarant" in roles:
        return doc, []
    others = [r for r in PARTY_ROLES[declaration_type] if r not in roles and r in doc]
    return {k: v for k, v in doc.items() if k not in others}, others


def _found_by(subject: SubjectKey) -> list[Any]:
    """A trader is the party whose EORI index a row carries (a trader's key also seals the other
    parties of its declarations, so its reference does not say which row is the trader); a person is
    the party sealed under its own key."""
    if subject.eori_index is not None:
        return [DeclarationPartyRow.eori_index == subject.eori_index]
    return [DeclarationPartyRow.party_ref == subject.party_ref]


class SubjectDeclarations:
    def __init__(self, session_factory: sessionmaker[Session], vault: FieldVault) -> None:
        self._sf = session_factory
        self._vault = vault

    def mrns(self, session: Session, subject: SubjectKey) -> list[str]:
        """MRNs of the declarations naming the subject through its reference or EORI (indexes only:
        nothing is decrypted; namesakes by name alone are not counted)."""
        ids = select(DeclarationPartyRow.declaration_id).where(or_(*_found_by(subject)))
        return list(
            session.execute(
                select(DeclarationRow.mrn).where(DeclarationRow.id.in_(ids)).order_by(DeclarationRow.id)
            ).scalars()
        )

    def report(self, subject: SubjectKey) -> list[dict[str, Any]]:
        """Every declaration the subject appears in, each version opened and cut to the subject."""
        conditions = _found_by(subject)
        if subject.name_index is not None:
            conditions.append(DeclarationPartyRow.name_index == subject.name_index)
        out: list[dict[str, Any]] = []
        with self._sf() as session, session.begin():
            hits = session.execute(
                select(
                    DeclarationPartyRow.declaration_id,
                    DeclarationPartyRow.version,
                    DeclarationPartyRow.role,
                    DeclarationPartyRow.party_ref,
                    DeclarationPartyRow.eori_index,
                ).where(or_(*conditions))
            ).all()
            # declaration id -> version -> (role -> found by name only, to confirm)
            found: dict[int, dict[int, dict[str, bool]]] = defaultdict(lambda: defaultdict(dict))
            for declaration_id, version, role, party_ref, eori_index in hits:
                certain = (subject.is_person and party_ref == subject.party_ref) or (
                    subject.eori_index is not None and eori_index == subject.eori_index
                )
                found[declaration_id][version][role] = found[declaration_id][version].get(role, False) or certain
            for declaration_id in sorted(found):
                entry = self._declaration(session, subject, declaration_id, found[declaration_id])
                if entry is not None:
                    out.append(entry)
        return out

    def _declaration(
        self, session: Session, subject: SubjectKey, declaration_id: int, versions: dict[int, dict[str, bool]]
    ) -> dict[str, Any] | None:
        row = session.execute(select(DeclarationRow).where(DeclarationRow.id == declaration_id)).scalar_one()
        vrows = session.execute(
            select(DeclarationVersionRow)
            .where(DeclarationVersionRow.declaration_id == declaration_id, DeclarationVersionRow.version.in_(versions))
            .order_by(DeclarationVersionRow.version)
        ).scalars()
        shown: list[dict[str, Any]] = []
        all_roles: set[str] = set()
        for vrow in vrows:
            doc = self._open(session, row.mrn, row.type, vrow)
            roles = [
                role
                for role, certain in sorted(versions[vrow.version].items())
                if certain or _same_person(subject, doc.get(role))
            ]
            if not roles:
                continue  # a namesake
            all_roles.update(roles)
            document, withheld = shown_to_subject(doc, row.type, roles)
            shown.append(
                {
                    "version": vrow.version,
                    "stored_at": vrow.created_at.isoformat(),
                    "roles": roles,
                    "document": document,
                    "withheld_parties": withheld,
                }
            )
        if not shown:
            return None
        return {
            "mrn": row.mrn,
            "type": row.type,
            "office": row.office,
            "status": row.status,
            "lodged_at": row.created_at.isoformat(),
            "updated_at": row.updated_at.isoformat(),
            "roles": sorted(all_roles),
            "versions": shown,
        }

    def _open(self, session: Session, mrn: str, declaration_type: str, vrow: DeclarationVersionRow) -> dict[str, Any]:
        def open_values(entries: list[tuple[str, list[Any]]]) -> list[Any]:
            plains = self._vault.open_many(
                session,
                [(int(e[1]), group_ref(mrn, name, vrow.version), base64.b64decode(e[2])) for name, e in entries],
            )
            return [ERASED_TEXT if isinstance(p, Erased) else orjson.loads(p) for p in plains]

        return documents.join(declaration_type, vrow.clear_doc, vrow.protected, lambda _n, _c: True, open_values)
