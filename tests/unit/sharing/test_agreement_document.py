"""Agreements as signed documents: the sender's signature, the recipient, the countersignature of
exactly the accepted bytes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from joserfc.jwk import OKPKey

from clearguard.sharing import agreement, jose
from clearguard.sharing.errors import SharingInputError

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def _terms(sender: OKPKey, recipient: OKPKey, **changes: object) -> agreement.Terms:
    fields: dict[str, object] = {
        "id": "agr-" + "a" * 32, "sender_kid": sender.thumbprint(), "recipient_kid": recipient.thumbprint(),
        "purpose": "risk", "legal_basis": "UCC", "categories": ("code", "trade"), "fields": ("items/commodity_code",),
        "pseudonymise": True, "valid_from": date(2026, 1, 1), "valid_until": date(2026, 12, 31), "max_per_day": 5,
        "retention_days": 90,
    }  # fmt: skip
    fields.update(changes)
    return agreement.Terms(**fields)  # type: ignore[arg-type]


def _public(key: OKPKey) -> OKPKey:
    return OKPKey.import_key(key.as_dict(private=False))


def test_sign_parse_countersign() -> None:
    sender, recipient = OKPKey.generate_key("Ed25519"), OKPKey.generate_key("Ed25519")
    terms = _terms(sender, recipient)
    document = agreement.sign(terms, sender, NOW)
    assert agreement.sender_of(document) == sender.thumbprint()
    assert agreement.parse(document, _public(sender)) == terms
    counter = agreement.countersign(document, terms, recipient, NOW)
    assert agreement.counter_agreement_id(counter) == terms.id
    agreement.check_countersignature(counter, document, terms, _public(recipient))
    # Countersigned by another key, or for other bytes: refused.
    with pytest.raises(SharingInputError):
        agreement.check_countersignature(counter, document, terms, _public(sender))
    other = agreement.sign(_terms(sender, recipient, purpose="something else"), sender, NOW)
    with pytest.raises(SharingInputError, match="does not accept"):
        agreement.check_countersignature(counter, other, terms, _public(recipient))


def test_forged_agreements_refused() -> None:
    sender, recipient, mallory = (OKPKey.generate_key("Ed25519") for _ in range(3))
    document = agreement.sign(_terms(sender, recipient), sender, NOW)
    with pytest.raises(SharingInputError, match="signed by key"):
        agreement.parse(document, _public(mallory))
    # A payload that claims another sender than its signer.
    claimed = _terms(sender, recipient).payload(NOW)
    with pytest.raises(SharingInputError, match="sender"):
        agreement.parse(jose.sign(claimed, mallory, typ=agreement.TYP), _public(mallory))
    # Biometric, or dates the wrong way round, even when properly signed.
    biometric = _terms(sender, recipient).payload(NOW) | {"categories": ["biometric"]}
    with pytest.raises(SharingInputError, match="categories"):
        agreement.parse(jose.sign(biometric, sender, typ=agreement.TYP), _public(sender))
    backwards = _terms(sender, recipient, valid_until=date(2025, 1, 1)).payload(NOW)
    with pytest.raises(SharingInputError, match="valid_until"):
        agreement.parse(jose.sign(backwards, sender, typ=agreement.TYP), _public(sender))
    with pytest.raises(SharingInputError):
        agreement.parse(document[:-4] + "AAAA", _public(sender))
    with pytest.raises(SharingInputError):
        agreement.check_id("agr-../../etc")
