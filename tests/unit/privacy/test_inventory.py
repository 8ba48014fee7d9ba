"""The field inventory and the records of processing are generated from the model's tags, the access
policy and the retention policies: a new field without its tags fails, a changed policy or field
changes the record."""

from __future__ import annotations

from typing import Any

from clearguard.access.roles import Role
from clearguard.categories import DataCategory
from clearguard.config import Settings
from clearguard.declaration_model import H7Declaration, tagged
from clearguard.privacy import records
from clearguard.privacy.inventory import MODELS, declaration_fields, model_fields, recipients, untagged
from tests.unit.privacy.retention_fake import FakeRetention


def test_every_stored_field_has_a_category_a_purpose_and_a_legal_basis() -> None:
    for declaration_type, model in MODELS.items():
        assert untagged(model) == [], declaration_type
        assert len(model_fields(model)) > 20


def test_a_new_field_without_tags_fails() -> None:
    class Bare(H7Declaration):
        nickname: str | None = None

    class CategoryOnly(H7Declaration):
        nickname: str | None = tagged(DataCategory.PERSONAL, default=None)

    class Complete(H7Declaration):
        nickname: str | None = tagged(DataCategory.PERSONAL, purpose="contact", basis="ucc-declaration", default=None)

    assert untagged(Bare) == ["/nickname: no category, no purpose, no legal basis"]
    assert untagged(CategoryOnly) == ["/nickname: no purpose, no legal basis"]
    assert untagged(Complete) == []


def test_a_nested_field_inherits_its_parents_tags() -> None:
    fields = {f.pointer: f for f in model_fields(H7Declaration)}
    email = fields["/consignee/contact/email"]
    assert (email.category, email.purpose, email.legal_basis) == ("personal", "contact", "ucc-declaration")
    assert fields["/consignee/name"].category == "personal"
    assert fields["/items/*/documents/*/reference"].purpose == "supporting-documents"


def test_recipients_come_from_the_access_policy() -> None:
    personal = {r["role"] for r in recipients(DataCategory.PERSONAL)}
    assert personal == {"trader", "broker", "officer", "dpo"}  # never the analyst, auditor, admin or partner
    code = {r["role"] for r in recipients(DataCategory.CODE)}
    assert Role.RISK_ANALYST.value in code and Role.AUDITOR.value not in code


def test_retention_unknown_without_policies_and_per_jurisdiction_with() -> None:
    assert {f["retention"] for f in declaration_fields(None)} == {"unknown"}
    retention = FakeRetention(declarations=None)
    field = next(f for f in declaration_fields(retention) if f["pointer"] == "/consignee/name")
    assert field["retention"]["EU"]["period"] == "P3Y" and field["retention"]["US"]["policy"] == "us-163-4"


def test_records_follow_the_policies() -> None:
    retention = FakeRetention(declarations=None)
    before = records.build(Settings(), retention)
    retention.policies[0]["period"] = "P7Y"
    after = records.build(Settings(), retention)
    assert before != after
    assert "P7Y from end_of_year_accepted" in records.markdown(after)
    assert "P7Y" not in records.markdown(before)


def test_records_follow_the_fields_and_the_configuration() -> None:
    class WithNickname(H7Declaration):
        nickname: str | None = tagged(DataCategory.PERSONAL, purpose="contact", basis="ucc-declaration", default=None)

    models: dict[str, Any] = dict(MODELS)
    before = records.build(Settings(), None, models=models)
    after = records.build(Settings(), None, models={**models, "H7": WithNickname})
    personal = next(p for p in after["personal_data"] if p["category"] == "personal")
    assert "H7/nickname" in personal["fields"]
    assert before["personal_data"] != after["personal_data"]
    hsm = records.build(Settings(crypto_provider="pkcs11"), None)
    assert any("PKCS#11" in m for m in hsm["security"]) and not any("PKCS#11" in m for m in before["security"])
    assert any("AES-256-GCM" in m for m in before["security"])
    text = records.markdown(before)
    for heading in records.HEADINGS.values():
        assert heading in text
    assert "no retention policy configured" in text


def test_every_table_is_in_the_inventory() -> None:
    """A capability that adds a table must say what personal data it holds (privacy.inventory)."""
    from clearguard.privacy.inventory import STORED_RECORDS
    from clearguard.tables import metadata

    listed = {t for r in STORED_RECORDS for t in r.tables}
    assert set(metadata.tables) - listed == set()
