"""SharingService: the one way into sharing (partners, agreements, packages sent and received).

Every send and every receipt or refusal is a ledger entry (a salted commitment: kind, opaque id,
hash) and an audit event, in the same transaction as its row. Received claims are sealed under a
data key of the sending partner; refusals keep only the reason and the digest of the bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol

import httpx
from joserfc.jwk import OKPKey
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from clearguard.audit.service import AuditService, NewAuditEvent
from clearguard.categories import DataCategory
from clearguard.config import Settings
from clearguard.crypto.fields import Erased, FieldRef
from clearguard.crypto.tls import client_context
from clearguard.db import utcnow
from clearguard.declarations.ports import FieldVault
from clearguard.declarations.results import Actor, DeclarationView
from clearguard.errors import ClearGuardError, NotFound
from clearguard.ledger.commitment import commit_entry, commitment, decode_entry, new_salt
from clearguard.ledger.errors import LedgerError
from clearguard.ledger.note import ed25519_verifier
from clearguard.ledger.receipt import receipt_from_json, verify_receipt
from clearguard.ledger.service import LedgerService
from clearguard.ledger.witness_service import WitnessService
from clearguard.sharing import agreement as agreements
from clearguard.sharing import disclosure, disposal, envelope, identity, sdjwt
from clearguard.sharing.errors import AgreementError, PackageRefused, SdJwtError, SharingError, SharingInputError
from clearguard.sharing.jose import canonical
from clearguard.sharing.keys import SharingKeys
from clearguard.sharing.pseudonyms import pseudonym
from clearguard.sharing.tables import (
    SharingAgreementRow,
    SharingNonceRow,
    SharingPackageRow,
    SharingPartnerRow,
    SharingPseudonymRow,
)

SENT: Final = "sharing.sent"
RECEIVED: Final = "sharing.received"
REFUSED: Final = "sharing.refused"
RECORD_TYPE: Final = "sharing_package"
INBOX_PATH: Final = "/api/v1/sharing/inbox"
PACKAGE_TYPE: Final = "application/jose"
# What else a partner pushes to our inbox: its countersignature of an agreement we proposed.
COUNTERSIGNATURE_TYPE: Final = "application/clearguard-countersignature+jws"
_BODY_KEYS: Final = frozenset({"package", "declaration_type", "sd_jwt", "ledger"})
_NAME = "abcdefghijklmnopqrstuvwxyz0123456789-_."


class Declarations(Protocol):
    def get(
        self,
        mrn: str,
        *,
        reveal: Callable[[str, DataCategory], bool] = ...,
        version: int | None = None,
        actor: Actor | None = None,
    ) -> DeclarationView: ...

    def party_key(self, eori: str) -> str: ...


@dataclass(frozen=True)
class SendResult:
    id: str
    agreement: str
    partner: str
    digest: str
    ledger_index: int
    disclosed: int
    withheld: int
    package: bytes
    delivered: dict[str, Any] | None  # the partner's answer when pushed

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "agreement": self.agreement, "partner": self.partner, "digest": self.digest,
            "ledger_index": self.ledger_index, "disclosed": self.disclosed, "withheld": self.withheld,
        }  # fmt: skip
        if self.delivered is not None:
            out["delivered"] = self.delivered
        return out


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(16)}"


def check_partner_name(name: str) -> str:
    if not 1 <= len(name) <= 64 or any(c not in _NAME for c in name):
        raise SharingInputError(f"partner name {name[:70]!r}: 1-64 characters of a-z 0-9 - _ .", field="partner")
    return name


def _agreement_dict(row: SharingAgreementRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "partner": row.partner,
        "direction": row.direction,
        "status": row.status,
        "purpose": row.purpose,
        "legal_basis": row.legal_basis,
        "categories": list(row.categories),
        "fields": list(row.fields),
        "pseudonymise": row.pseudonymise,
        "valid_from": row.valid_from.isoformat(),
        "valid_until": row.valid_until.isoformat(),
        "max_per_day": row.max_per_day,
        "retention_days": row.retention_days,
        "countersigned": row.countersignature is not None,
        "created_at": row.created_at.isoformat(),
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "revoked_reason": row.revoked_reason,
    }


class SharingService:
    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        settings: Settings,
        ledger: LedgerService,
        witness: Callable[[], WitnessService],
        audit: AuditService,
        declarations: Declarations,
        vault: FieldVault,
        keys: Callable[[], SharingKeys],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sf = factory
        self.settings = settings
        self._ledger = ledger
        self._witness = witness
        self._audit = audit
        self._declarations = declarations
        self._vault = vault
        self._load_keys = keys
        self._keys: SharingKeys | None = None
        self._clock = clock

    # --- the instance ------------------------------------------------------------------------

    def keys(self) -> SharingKeys:
        """Loaded on first use, so that everything else starts on an instance without them."""
        if self._keys is None:
            self._keys = self._load_keys()
        return self._keys

    def identity_document(self) -> str:
        keys = self.keys()
        witness = self._witness()
        return identity.build(
            name=self.settings.administration_name,
            country=self.settings.country,
            signing_key=keys.signing,
            encryption_key=keys.encryption,
            ledger_origin=self._ledger.origin,
            ledger_vkey=self._ledger.vkey(),
            witness_name=witness.signer.name,
            witness_vkey=witness.vkey(),
            url=self.settings.public_url.rstrip("/"),
            client_certificate=keys.client_cert.read_text(),
            ca_certificate=keys.ca_cert.read_text(),
            now=self._clock(),
        )

    # --- partners ----------------------------------------------------------------------------

    def add_partner(self, name: str, document: str, *, actor: Actor) -> dict[str, Any]:
        name = check_partner_name(name)
        partner = identity.parse(document)
        if partner.kid == self.keys().kid:
            raise SharingInputError("identity: this is our own identity document", field="identity")
        with self._sf() as session, session.begin():
            existing = session.get(SharingPartnerRow, name)
            if existing is not None:
                if existing.kid != partner.kid:
                    raise SharingInputError(f"partner {name}: already registered with another signing key")
                clash = session.execute(
                    select(SharingPartnerRow.name).where(
                        SharingPartnerRow.client_fingerprint == partner.client_fingerprint,
                        SharingPartnerRow.name != name,
                    )
                ).scalar_one_or_none()
                if clash is not None:
                    raise SharingInputError(f"identity: already registered as partner {clash}", field="identity")
                # A renewed identity rotates the client certificate: the old one opens nothing more.
                existing.identity, existing.url = partner.document, partner.url
                existing.client_fingerprint = partner.client_fingerprint
            else:
                clash = session.execute(
                    select(SharingPartnerRow.name).where(
                        (SharingPartnerRow.kid == partner.kid)
                        | (SharingPartnerRow.client_fingerprint == partner.client_fingerprint)
                    )
                ).scalar_one_or_none()
                if clash is not None:
                    raise SharingInputError(f"identity: already registered as partner {clash}", field="identity")
                session.add(
                    SharingPartnerRow(
                        name=name, administration=partner.name, country=partner.country, kid=partner.kid,
                        identity=partner.document, client_fingerprint=partner.client_fingerprint,
                        url=partner.url, added_at=self._clock(),
                    )
                )  # fmt: skip
            try:
                # We witness the partner's log and mirror its tiles; its witness cosigns ours.
                self._witness().register_partner(
                    session, name=name, origin=partner.ledger_origin, log_vkey=partner.ledger_vkey,
                    witness_vkey=partner.witness_vkey, url=partner.url,
                )  # fmt: skip
            except LedgerError as exc:
                raise SharingInputError(f"identity: {exc}", field="ledger") from None
            self._event(session, actor, "sharing.partner.add", name, details={"kid": partner.kid})
        return self._partner_dict(partner, name)

    @staticmethod
    def _partner_dict(partner: identity.PartnerIdentity, name: str) -> dict[str, Any]:
        return {
            "name": name, "administration": partner.name, "country": partner.country, "kid": partner.kid,
            "url": partner.url, "ledger_origin": partner.ledger_origin, "witness": partner.witness_name,
            "client_certificate_sha256": partner.client_fingerprint,
        }  # fmt: skip

    def list_partners(self) -> list[dict[str, Any]]:
        with self._sf() as session:
            rows = session.execute(select(SharingPartnerRow).order_by(SharingPartnerRow.name)).scalars().all()
            return [self._partner_dict(identity.parse(r.identity), r.name) for r in rows]

    def _partner(self, session: Session, name: str) -> tuple[SharingPartnerRow, identity.PartnerIdentity]:
        row = session.get(SharingPartnerRow, check_partner_name(name))
        if row is None:
            raise NotFound(
                f"partner: no partner {name} (add it with `clearguard sharing partner add`)", field="partner"
            )
        return row, identity.parse(row.identity)

    def partner_for_certificate(self, fingerprint: str) -> str | None:
        """The registered partner whose mTLS client certificate has this SHA-256, if any."""
        with self._sf() as session:
            return session.execute(
                select(SharingPartnerRow.name).where(SharingPartnerRow.client_fingerprint == fingerprint)
            ).scalar_one_or_none()

    def partner_cas(self) -> bytes:
        """The CA certificates of every registered partner (PEM): what the server's TLS verifies
        client certificates against, so any other client certificate fails in the handshake."""
        with self._sf() as session:
            docs = session.execute(select(SharingPartnerRow.identity)).scalars().all()
        return "".join(identity.parse(d).ca_certificate for d in docs).encode()

    def partner_client(self, *, extra_ca: Path | None = None, timeout_s: float = 10.0) -> httpx.Client:
        """HTTPS towards partners for witnessing and mirroring: their servers verified against the
        CAs of their identity documents (and `extra_ca`, for partners whose logs are served by
        another host), our mTLS client certificate presented when this instance has one. Without
        either, the system's CAs, as for any public log."""
        cas = self.partner_cas().decode()
        if extra_ca is not None:
            cas += extra_ca.read_text()
        if not cas:
            return httpx.Client(timeout=timeout_s)
        context = ssl.create_default_context(cadata=cas)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            keys = self.keys()
        except ClearGuardError:  # an instance that never shares has no client identity: server auth only
            keys = None
        if keys is not None:
            context.load_cert_chain(keys.client_cert, keys.client_key)
        return httpx.Client(timeout=timeout_s, verify=context)

    # --- agreements --------------------------------------------------------------------------

    def create_agreement(
        self,
        *,
        partner: str,
        purpose: str,
        legal_basis: str,
        allow: str,
        fields: str | None,
        pseudonymise: bool,
        valid_from: date,
        valid_until: date,
        max_per_day: int | None,
        retention_days: int,
        actor: Actor,
    ) -> tuple[dict[str, Any], str]:
        """(the agreement, its signed document) proposed to `partner`; sends nothing until the
        partner's countersignature is imported."""
        for option, text in (("--purpose", purpose), ("--legal-basis", legal_basis)):
            if not text.strip() or len(text) > 2000:
                raise SharingInputError(f"{option}: 1 to 2000 characters", field=option.strip("-"))
        categories = disclosure.parse_categories(allow)
        field_paths = disclosure.parse_fields(fields, categories)
        if valid_until < valid_from:
            raise SharingInputError("--until: before --from", field="until")
        if max_per_day is not None and max_per_day < 1:
            raise SharingInputError("--max-per-day: at least 1", field="max_per_day")
        if not 1 <= retention_days <= 3650:
            raise SharingInputError("--retention-days: 1 to 3650", field="retention_days")
        keys = self.keys()
        now = self._clock()
        with self._sf() as session, session.begin():
            _row, partner_id = self._partner(session, partner)
            terms = agreements.Terms(
                id="agr-" + secrets.token_hex(16), sender_kid=keys.kid, recipient_kid=partner_id.kid,
                purpose=purpose.strip(), legal_basis=legal_basis.strip(), categories=categories, fields=field_paths,
                pseudonymise=pseudonymise, valid_from=valid_from, valid_until=valid_until, max_per_day=max_per_day,
                retention_days=retention_days,
            )  # fmt: skip
            document = agreements.sign(terms, keys.signing, now)
            row = self._agreement_row(terms, partner, "outgoing", "proposed", document, now)
            session.add(row)
            session.flush()
            self._event(session, actor, "sharing.agreement.create", terms.id, details={"partner": partner})
            return _agreement_dict(row), document

    @staticmethod
    def _agreement_row(
        terms: agreements.Terms, partner: str, direction: str, status: str, document: str, now: datetime
    ) -> SharingAgreementRow:
        return SharingAgreementRow(
            id=terms.id, partner=partner, direction=direction, status=status, purpose=terms.purpose,
            legal_basis=terms.legal_basis, categories=list(terms.categories), fields=list(terms.fields),
            pseudonymise=terms.pseudonymise, valid_from=terms.valid_from, valid_until=terms.valid_until,
            max_per_day=terms.max_per_day, retention_days=terms.retention_days, document=document.strip(),
            countersignature=None, created_at=now, revoked_at=None, revoked_reason=None,
        )  # fmt: skip

    def accept_agreement(self, document: str, *, actor: Actor) -> tuple[dict[str, Any], str]:
        """The receiving side: verify the sender's signature against the registered partner,
        check that we are the recipient, store it accepted, and countersign it."""
        keys = self.keys()
        kid = agreements.sender_of(document)
        now = self._clock()
        with self._sf() as session, session.begin():
            row = session.execute(select(SharingPartnerRow).where(SharingPartnerRow.kid == kid)).scalar_one_or_none()
            if row is None:
                raise SharingInputError("agreement: not signed by a registered partner", field="agreement")
            partner = identity.parse(row.identity)
            terms = agreements.parse(document, partner.signing_key)
            if terms.recipient_kid != keys.kid:
                raise SharingInputError("agreement: addressed to another administration", field="agreement")
            existing = session.get(SharingAgreementRow, terms.id)
            if existing is not None:
                if existing.document != document.strip() or existing.direction != "incoming":
                    raise SharingInputError(f"agreement {terms.id}: another agreement has this id", field="agreement")
                if existing.countersignature is None:  # pragma: no cover - accepted rows always carry it
                    raise SharingError(f"agreement {terms.id}: stored without its countersignature")
                return _agreement_dict(existing), existing.countersignature
            counter = agreements.countersign(document, terms, keys.signing, now)
            stored = self._agreement_row(terms, row.name, "incoming", "accepted", document, now)
            stored.countersignature = counter
            session.add(stored)
            session.flush()
            self._event(session, actor, "sharing.agreement.accept", terms.id, details={"partner": row.name})
            return _agreement_dict(stored), counter

    def import_countersignature(self, countersignature: str, *, actor: Actor, via: str | None = None) -> dict[str, Any]:
        """The partner's countersignature of an agreement we proposed: from a file, or (`via`: the
        partner whose client certificate carried it) pushed to our inbox."""
        agreement_id = agreements.counter_agreement_id(countersignature)
        with self._sf() as session, session.begin():
            row = session.get(SharingAgreementRow, agreement_id)
            if row is None or row.direction != "outgoing" or (via is not None and row.partner != via):
                raise NotFound(f"agreement: we proposed no agreement {agreement_id}", field="agreement")
            _prow, partner = self._partner(session, row.partner)
            terms = agreements.parse(row.document, self.keys().signing)
            agreements.check_countersignature(countersignature, row.document, terms, partner.signing_key)
            if row.status == "proposed":
                row.status, row.countersignature = "accepted", countersignature.strip()
                self._event(session, actor, "sharing.agreement.countersigned", row.id, details={"partner": row.partner})
            return _agreement_dict(row)

    def list_agreements(self) -> list[dict[str, Any]]:
        with self._sf() as session:
            rows = session.execute(select(SharingAgreementRow).order_by(SharingAgreementRow.created_at)).scalars()
            return [_agreement_dict(r) for r in rows]

    def show_agreement(self, agreement_id: str) -> dict[str, Any]:
        with self._sf() as session:
            row = session.get(SharingAgreementRow, agreements.check_id(agreement_id))
            if row is None:
                raise NotFound(f"agreement: no agreement {agreement_id}", field="agreement")
            out = _agreement_dict(row)
            out["document"] = row.document
            out["countersignature"] = row.countersignature
            return out

    def revoke_agreement(self, agreement_id: str, *, reason: str, actor: Actor) -> dict[str, Any]:
        if not reason.strip() or len(reason) > 2000:
            raise SharingInputError("--reason: 1 to 2000 characters", field="reason")
        with self._sf() as session, session.begin():
            row = session.get(SharingAgreementRow, agreements.check_id(agreement_id))
            if row is None:
                raise NotFound(f"agreement: no agreement {agreement_id}", field="agreement")
            if row.status != "revoked":
                row.status, row.revoked_at, row.revoked_reason = "revoked", self._clock(), reason.strip()
                self._event(session, actor, "sharing.agreement.revoke", row.id, details={"partner": row.partner})
            return _agreement_dict(row)

    @staticmethod
    def _in_force(row: SharingAgreementRow | None, today: date) -> str | None:
        """Why the agreement does not allow an exchange today, or None."""
        if row is None:
            return "no such agreement"
        if row.status == "revoked":
            return f"agreement {row.id} is revoked"
        if row.status != "accepted":
            return f"agreement {row.id} is not yet accepted by the partner"
        if not row.valid_from <= today <= row.valid_until:
            return f"agreement {row.id} is in force from {row.valid_from} to {row.valid_until}"
        return None

    def check_release(self, agreement_id: str, *, categories: Collection[DataCategory] = ()) -> None:
        """AgreementError unless `agreement_id` is an agreement we proposed, the partner accepted,
        in force today and not revoked, allowing every one of `categories`: what a statistical
        release drawing on those categories is made under."""
        agreements.check_id(agreement_id)
        with self._sf() as session:
            row = session.get(SharingAgreementRow, agreement_id)
            if row is not None and row.direction != "outgoing":
                raise AgreementError(f"agreement {agreement_id} is the partner's: we only receive under it")
            why = self._in_force(row, self._clock().date())
            allowed = set(row.categories) if row is not None else set()
        if why is not None:
            raise AgreementError(f"agreement: {why}", field="agreement")
        missing = sorted(c.value for c in categories if c.value not in allowed)
        if missing:
            raise AgreementError(
                f"agreement: {agreement_id} does not allow the categories the release draws on: {', '.join(missing)}",
                field="agreement",
            )

    # --- sending -----------------------------------------------------------------------------

    def send(self, mrn: str, agreement_id: str, *, actor: Actor, push: bool = True) -> SendResult:
        """Share one declaration under an agreement we created and the partner accepted; pushed to
        the partner's inbox over mutual TLS, or (push=False) returned as a package file."""
        agreements.check_id(agreement_id)
        keys = self.keys()
        now = self._clock()
        with self._sf() as session:
            agreement = session.get(SharingAgreementRow, agreement_id)
            if agreement is not None and agreement.direction != "outgoing":
                raise AgreementError(f"agreement {agreement_id} is the partner's: we only receive under it")
            why = self._in_force(agreement, now.date())
            if why is not None:
                raise AgreementError(f"agreement: {why}", field="agreement")
            assert agreement is not None
            if agreement.max_per_day is not None:
                start = datetime(now.year, now.month, now.day, tzinfo=UTC)
                sent_today = session.scalar(
                    select(func.count()).where(
                        SharingPackageRow.agreement_id == agreement.id,
                        SharingPackageRow.direction == "sent",
                        SharingPackageRow.created_at >= start,
                    )
                )
                if int(sent_today or 0) >= agreement.max_per_day:
                    raise AgreementError(f"agreement {agreement.id}: {agreement.max_per_day} packages a day at most")
            _prow, partner = self._partner(session, agreement.partner)
            partner_name = agreement.partner
            categories = tuple(agreement.categories)
            fields = tuple(agreement.fields)
            pseudonymise = agreement.pseudonymise
        allowed = {DataCategory(c) for c in categories}
        view = self._declarations.get(
            mrn,
            # Open only the groups that can leave, plus party identities when they become pseudonyms.
            reveal=lambda _part, category: category in allowed or (pseudonymise and category.protected),
            actor=Actor(actor.name, actor.role, actor.source, f"sharing under {agreement_id}"),
        )
        key = keys.pseudonym_key(partner.kid)
        selection = disclosure.select(
            view.type, view.document, categories=categories, fields=fields, pseudonymise=pseudonymise,
            pseudonym=lambda kind, value: pseudonym(key, kind, value),
        )  # fmt: skip
        package_id = _new_id("pkg")
        claims = {"iss": keys.kid, "iat": int(now.timestamp()), "jti": package_id,
                  "vct": f"clearguard/declaration/{view.type}", **selection.claims}  # fmt: skip
        issued = sdjwt.issue(claims, key=keys.signing, kid=keys.kid)
        presented = issued.present(selection.keep)
        digest = sdjwt.digest_of(presented)
        body = self._sent_commitment(package_id, agreement_id, partner.kid, digest)
        salt = new_salt()
        with self._sf() as session, session.begin():
            index = self._ledger.append(session, commit_entry(SENT, package_id, canonical(body), salt))
            session.add(
                SharingPackageRow(
                    id=package_id, direction="sent", partner=partner_name, agreement_id=agreement_id,
                    reason=None, digest=digest, declaration_type=view.type, key_id=None, sealed=None, salt=salt,
                    commitment_body=canonical(body).decode(), ledger_index=index, retain_until=None, created_at=now,
                    disposed_at=None,
                )
            )  # fmt: skip
            self._remember_pseudonyms(session, agreement_id, selection.pseudonyms)
            self._event(session, actor, SENT, package_id, details={"agreement": agreement_id, "digest": digest})
        # `send` waits for its entry to be in a signed checkpoint: the package carries the proof.
        receipt = self._ledger.receipt_now(self._sf, index)
        package = envelope.seal(
            {
                "package": package_id,
                "declaration_type": view.type,
                "sd_jwt": presented,
                "ledger": {"receipt": receipt.to_json(), "salt": base64.b64encode(salt).decode()},
            },
            kind="declaration", agreement=agreement_id, sender=keys.kid, recipient=partner.kid,
            signing_key=keys.signing, signing_kid=keys.kid, recipient_key=partner.encryption_key,
            recipient_kid=str(partner.encryption_key.thumbprint()), now=now,
            ttl=timedelta(seconds=self.settings.sharing_package_ttl_s),
        )  # fmt: skip
        verified = sdjwt.verify(presented, key=_public(keys.signing))
        delivered = self.push(partner, package) if push else None
        return SendResult(
            package_id,
            agreement_id,
            partner.name,
            digest,
            index,
            len(verified.disclosed),
            verified.withheld,
            package,
            delivered,
        )

    @staticmethod
    def _sent_commitment(package_id: str, agreement_id: str, recipient_kid: str, digest: str) -> dict[str, str]:
        return {"package": package_id, "agreement": agreement_id, "recipient": recipient_kid, "sd_jwt_sha256": digest}

    def _remember_pseudonyms(self, session: Session, agreement_id: str, given: Sequence[tuple[str, str, str]]) -> None:
        if not given:
            return
        partner = session.get(SharingAgreementRow, agreement_id)
        assert partner is not None
        for value, kind, ident in given:
            exists = session.execute(
                select(SharingPseudonymRow.id).where(
                    SharingPseudonymRow.partner == partner.partner, SharingPseudonymRow.pseudonym == value
                )
            ).scalar_one_or_none()
            if exists is not None:
                continue
            # Sealed under the party's own data key: shredding the trader makes the pseudonym
            # unresolvable, here as everywhere.
            ref = (
                "eori:" + self._declarations.party_key(ident)
                if kind == "eori"
                else "sharing-party:" + self._vault.blind_index("name", ident)
            )
            key_id = self._vault.key_for_party(session, ref)
            row = SharingPseudonymRow(partner=partner.partner, pseudonym=value, kind=kind, key_id=key_id, sealed=b"")
            session.add(row)
            session.flush()
            row.sealed = self._vault.seal(session, key_id, FieldRef("sharing_pseudonyms", str(row.id), kind, 1), ident)

    def deliver_countersignature(self, agreement_id: str, countersignature: str) -> str | None:
        """Push our countersignature back to the proposing partner's inbox; None when delivered,
        else why not (the operator then hands the file over: `agreement countersign` there)."""
        with self._sf() as session:
            row = session.get(SharingAgreementRow, agreements.check_id(agreement_id))
            if row is None or row.direction != "incoming":
                raise NotFound(f"agreement: we accepted no agreement {agreement_id}", field="agreement")
            _prow, partner = self._partner(session, row.partner)
        try:
            self.push(partner, countersignature.encode(), content_type=COUNTERSIGNATURE_TYPE)
        except SharingError as exc:
            return str(exc)
        return None

    def push(
        self, partner: identity.PartnerIdentity, package: bytes, *, content_type: str = PACKAGE_TYPE
    ) -> dict[str, Any]:
        """POST the package to the partner's inbox over mutual TLS: our client certificate, their
        server certificate verified against the CA in their identity document (and nothing else)."""
        keys = self.keys()
        ca = keys.ca_cert.parent / f"partner-{partner.kid}.pem"
        ca.write_text(partner.ca_certificate)
        context = client_context(ca, cert=keys.client_cert, key=keys.client_key)
        try:
            with httpx.Client(verify=context, timeout=self.settings.sharing_timeout_s) as client:
                response = client.post(
                    partner.url + INBOX_PATH, content=package, headers={"Content-Type": content_type}
                )
        except httpx.HTTPError as exc:
            raise SharingError(f"partner {partner.name}: inbox unreachable ({type(exc).__name__}: {exc})") from None
        try:
            answer = response.json()
        except ValueError:
            answer = {"detail": response.text[:200]}
        if response.status_code != 200:
            raise SharingError(
                f"partner {partner.name} refused the package ({response.status_code}): "
                f"{answer.get('reason', '')} {answer.get('detail', '')}".strip()
            )
        return dict(answer) if isinstance(answer, dict) else {"answer": answer}

    # --- receiving ---------------------------------------------------------------------------

    def receive(self, data: bytes, *, via: str | None, actor: Actor) -> dict[str, Any]:
        """The one receive path (CLI import and the inbox route). `via`: the partner whose client
        certificate carried the package (None for a file). PackageRefused names the reason; a
        refusal stores nothing but the refused receipt."""
        try:
            return self._receive(data, via=via, actor=actor)
        except PackageRefused as refused:
            self._refused(data, refused, via=via, actor=actor)
            raise

    def _receive(self, data: bytes, *, via: str | None, actor: Actor) -> dict[str, Any]:
        keys = self.keys()
        now = self._clock()
        partners: dict[str, tuple[str, identity.PartnerIdentity]] = {}

        def sender_key(issuer: str, kid: str) -> OKPKey | None:
            if issuer != kid:
                return None
            with self._sf() as session:
                row = session.execute(
                    select(SharingPartnerRow).where(SharingPartnerRow.kid == kid)
                ).scalar_one_or_none()
                if row is None:
                    return None
                partners[kid] = (row.name, identity.parse(row.identity))
            return partners[kid][1].signing_key

        opened = envelope.open_package(
            data, recipient=keys.kid, decryption_key=keys.encryption, sender_key=sender_key, now=now,
            max_bytes=self.settings.sharing_inbox_max_bytes, decryption_kid=keys.encryption_kid,
        )  # fmt: skip
        name, partner = partners[opened.sender]
        if via is not None and via != name:
            raise PackageRefused("unknown-sender", f"the client certificate is partner {via}'s, the package {name}'s")
        if opened.kind != "declaration":
            raise PackageRefused("malformed", f"package kind {opened.kind!r} is not received here")
        body = opened.body
        if set(body) != _BODY_KEYS:
            extra = sorted(set(body) ^ _BODY_KEYS)
            raise PackageRefused("unknown-field", f"package body: unexpected or missing field {extra[0]!r}")
        ledger_part = body["ledger"]
        if not isinstance(ledger_part, dict) or set(ledger_part) != {"receipt", "salt"}:
            raise PackageRefused("unknown-field", "package body: ledger must hold exactly receipt and salt")
        sd_jwt, sender_package, declaration_type = body["sd_jwt"], body["package"], body["declaration_type"]
        if not all(isinstance(v, str) for v in (sd_jwt, sender_package, declaration_type)):
            raise PackageRefused("malformed", "package body: package, declaration_type and sd_jwt are strings")
        with self._sf() as session:
            agreement = session.get(SharingAgreementRow, opened.agreement[:40])
            if agreement is not None and (agreement.direction != "incoming" or agreement.partner != name):
                agreement = None
            why = self._in_force(agreement, now.date())
            if why is not None:
                raise PackageRefused("outside-agreement", f"{why} (between partner {name} and us)")
            assert agreement is not None
            if (
                session.execute(
                    select(SharingNonceRow.id).where(
                        SharingNonceRow.sender == name, SharingNonceRow.nonce == opened.nonce
                    )
                ).scalar_one_or_none()
                is not None
            ):
                raise PackageRefused("replayed", "this package was received before")
            terms = (tuple(agreement.categories), tuple(agreement.fields), agreement.pseudonymise)
            retention = agreement.retention_days
        try:
            verified = sdjwt.verify(sd_jwt, key=partner.signing_key)
        except SdJwtError as exc:
            raise PackageRefused("bad-signature", f"the SD-JWT does not verify: {exc}") from None
        if verified.claims.get("iss") != partner.kid or verified.claims.get("jti") != sender_package:
            raise PackageRefused("bad-signature", "the SD-JWT was not issued for this package")
        problem = disclosure.check_received(
            declaration_type, verified.claims, categories=terms[0], fields=terms[1], pseudonymise=terms[2]
        )
        if problem is not None:
            raise PackageRefused(*problem)
        digest = sdjwt.digest_of(sd_jwt)
        self._check_ledger_proof(partner, ledger_part, sender_package, opened.agreement, keys.kid, digest)
        claims = {k: v for k, v in verified.claims.items() if k not in disclosure.ENVELOPE_CLAIMS}
        received_id = _new_id("rcv")
        body_committed = {"package": received_id, "sender": partner.kid, "sender_package": sender_package,
                          "agreement": agreement.id, "sd_jwt_sha256": digest}  # fmt: skip
        salt = new_salt()
        try:
            with self._sf() as session, session.begin():
                session.execute(delete(SharingNonceRow).where(SharingNonceRow.expires_at < now - envelope.SKEW))
                session.add(SharingNonceRow(sender=name, nonce=opened.nonce, expires_at=opened.expires_at))
                session.flush()  # a racing copy of the same package fails here, on the unique nonce
                key_id = self._vault.key_for_party(session, f"sharing-partner:{partner.kid}")
                sealed = self._vault.seal(
                    session, key_id, FieldRef("sharing_packages", received_id, "claims", 1), canonical(claims).decode()
                )
                index = self._ledger.append(
                    session, commit_entry(RECEIVED, received_id, canonical(body_committed), salt)
                )
                session.add(
                    SharingPackageRow(
                        id=received_id, direction="received", partner=name, agreement_id=agreement.id, reason=None,
                        digest=digest, declaration_type=declaration_type, key_id=key_id, sealed=sealed, salt=salt,
                        commitment_body=canonical(body_committed).decode(), ledger_index=index,
                        retain_until=now.date() + timedelta(days=retention), created_at=now, disposed_at=None,
                    )
                )  # fmt: skip
                self._event(session, actor, RECEIVED, received_id, details={"partner": name, "digest": digest})
        except IntegrityError:
            raise PackageRefused("replayed", "this package was received before") from None
        return {
            "id": received_id, "partner": name, "agreement": agreement.id, "declaration_type": declaration_type,
            "disclosed": len(verified.disclosed), "withheld": verified.withheld, "digest": digest,
            "ledger_index": index,
        }  # fmt: skip

    def _check_ledger_proof(
        self,
        partner: identity.PartnerIdentity,
        ledger_part: dict[str, Any],
        sender_package: str,
        agreement_id: str,
        own_kid: str,
        digest: str,
    ) -> None:
        """The sender's `sharing.sent` entry commits to exactly this SD-JWT for us, and is included
        in a checkpoint signed by the sender's log key (from its identity document)."""
        try:
            receipt = receipt_from_json(ledger_part["receipt"])
            salt = base64.b64decode(str(ledger_part["salt"]), validate=True)
            verify_receipt(receipt, [ed25519_verifier(partner.ledger_vkey)], partner.ledger_origin)
            entry = decode_entry(receipt.entry)
            expected = self._sent_commitment(sender_package, agreement_id, own_kid, digest)
            ok = (
                entry.kind == SENT
                and entry.record_id == sender_package
                and entry.commitment == commitment(SENT, sender_package, canonical(expected), salt)
            )
        except (LedgerError, ValueError, TypeError) as exc:
            raise PackageRefused("ledger-proof", f"the sender's ledger proof does not verify: {exc}") from None
        if not ok:
            raise PackageRefused("ledger-proof", "the sender's ledger entry does not commit to this disclosure")

    def _refused(self, data: bytes, refused: PackageRefused, *, via: str | None, actor: Actor) -> None:
        refused_id = _new_id("ref")
        digest = hashlib.sha256(data).hexdigest()
        body = {"package": refused_id, "reason": refused.reason, "bytes_sha256": digest}
        salt = new_salt()
        with self._sf() as session, session.begin():
            index = self._ledger.append(session, commit_entry(REFUSED, refused_id, canonical(body), salt))
            session.add(
                SharingPackageRow(
                    id=refused_id, direction="refused", partner=via, agreement_id=None, reason=refused.reason,
                    digest=digest, declaration_type=None, key_id=None, sealed=None, salt=salt,
                    commitment_body=canonical(body).decode(), ledger_index=index, retain_until=None,
                    created_at=self._clock(), disposed_at=None,
                )
            )  # fmt: skip
            self._event(
                session, actor, REFUSED, refused_id, outcome="denied", details={"reason": refused.reason, "via": via}
            )
        refused.extra["receipt"] = refused_id

    def inbox(self) -> list[dict[str, Any]]:
        with self._sf() as session:
            rows = session.execute(
                select(SharingPackageRow)
                .where(SharingPackageRow.direction.in_(("received", "refused")))
                .order_by(SharingPackageRow.created_at, SharingPackageRow.id)
            ).scalars()
            return [
                {
                    "id": r.id,
                    "status": r.direction,
                    "reason": r.reason,
                    "partner": r.partner,
                    "agreement": r.agreement_id,
                    "declaration_type": r.declaration_type,
                    "digest": r.digest,
                    "ledger_index": r.ledger_index,
                    "received_at": r.created_at.isoformat(),
                    "retain_until": r.retain_until.isoformat() if r.retain_until else None,
                    "disposed_at": r.disposed_at.isoformat() if r.disposed_at else None,
                }
                for r in rows
            ]

    def show(self, package_id: str, *, actor: Actor) -> dict[str, Any]:
        """A received package's disclosed claims, as the receiver sees them (pseudonyms in place of
        withheld identities); the read is audited."""
        with self._sf() as session, session.begin():
            row = session.get(SharingPackageRow, package_id[:40])
            if row is None or row.direction != "received":
                raise NotFound(f"package: no received package {package_id[:40]}", field="package")
            if row.sealed is None or row.key_id is None:
                plain: str | Erased = "[disposed]"
            else:
                ref = FieldRef("sharing_packages", row.id, "claims", 1)
                plain = self._vault.open(session, row.key_id, ref, row.sealed)
            self._event(session, actor, "sharing.read", row.id, details={"partner": row.partner})
            return {
                "id": row.id, "partner": row.partner, "agreement": row.agreement_id,
                "declaration_type": row.declaration_type, "received_at": row.created_at.isoformat(),
                "retain_until": row.retain_until.isoformat() if row.retain_until else None,
                "claims": _claims(plain),
                "disposed_at": row.disposed_at.isoformat() if row.disposed_at else None,
            }  # fmt: skip

    def dispose_due(self, *, actor: Actor) -> dict[str, Any]:
        """Delete the claims of every received package past the retention date its agreement set.
        The row keeps its digest and ledger commitment (which never held the claims), so the ledger
        still verifies; the claims are gone, and `show` says so."""
        now = self._clock()
        with self._sf() as session, session.begin():
            ids = disposal.dispose(session, now)
            if ids:
                self._event(session, actor, "sharing.dispose", None, details={"packages": ids})
        return {"disposed": len(ids), "packages": ids, "as_of": now.date().isoformat()}

    def reidentify(self, value: str, *, partner: str, reason: str, actor: Actor) -> dict[str, Any]:
        """The identity behind a pseudonym we gave `partner`: the sending side only, audited."""
        if not reason.strip() or len(reason) > 2000:
            raise SharingInputError("--reason: 1 to 2000 characters", field="reason")
        if not value.startswith("pn:") or len(value) > 100:
            raise SharingInputError("pseudonym: expected pn: and base32", field="pseudonym")
        with self._sf() as session, session.begin():
            self._partner(session, partner)
            row = session.execute(
                select(SharingPseudonymRow).where(
                    SharingPseudonymRow.partner == partner, SharingPseudonymRow.pseudonym == value
                )
            ).scalar_one_or_none()
            self._event(
                session, actor, "sharing.reidentify", value, justification=reason.strip(),
                outcome="ok" if row is not None else "failed", details={"partner": partner},
            )  # fmt: skip
            if row is None:
                found: str | None = None
            else:
                plain = self._vault.open(
                    session, row.key_id, FieldRef("sharing_pseudonyms", str(row.id), row.kind, 1), row.sealed
                )
                found = None if isinstance(plain, Erased) else plain
        if found is None:
            raise NotFound(f"pseudonym: we gave partner {partner} no such pseudonym (or its party was erased)")
        return {"pseudonym": value, "partner": partner, "kind": row.kind if row else None, "identity": found}

    # --- shared ------------------------------------------------------------------------------

    def _event(
        self,
        session: Session,
        actor: Actor,
        action: str,
        record_id: str | None,
        *,
        outcome: str = "ok",
        justification: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self._audit.record(
            session,
            NewAuditEvent(
                actor=actor.name, role=actor.role, action=action, record_type=RECORD_TYPE, record_id=record_id,
                party=None, source=actor.source, justification=justification or actor.justification,
                outcome=outcome, details=details,
            ),
        )  # fmt: skip


def _claims(plain: str | Erased) -> Any:
    if isinstance(plain, Erased):
        return "[erased]"
    return plain if plain == "[disposed]" else json.loads(plain)


def _public(key: OKPKey) -> OKPKey:
    return OKPKey.import_key(key.as_dict(private=False))
