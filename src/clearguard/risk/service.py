"""RiskService: the one way into the risk engine for other capabilities and the CLI.

The caller owns the transaction: every method takes a Session and never commits, so an assessment
commits with the declaration it belongs to, or not at all.

Wiring (clearguard.wiring): the service satisfies the lifecycle's RiskAssessor port.

    risk = RiskService(settings, party_index=lambda eori: vault.blind_index("eori", normalise_eori(eori)),
                       vault=vault, item_owner=...)  # seals the scored records under the declarant's key
    DeclarationService(session_factory, ..., risk=risk)  # calls risk.assess_declaration(...) when lodging

Nothing of an item's price is kept in clear: the scored records are sealed (risk.sealing), and the
explanations leave out the values of the features computed from the price (PRICE_FEATURES), whose
contributions still say how much they moved the score.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any

import numpy as np
from sqlalchemy import Integer, case, cast, func, insert, select, update
from sqlalchemy.orm import Session

from clearguard.config import Settings, get_settings
from clearguard.crypto import DecryptionFailed
from clearguard.db import DriverStatement, utcnow
from clearguard.risk import pending
from clearguard.risk.channels import Channel, decide, stronger
from clearguard.risk.disposal import dispose_records
from clearguard.risk.errors import (
    AssessmentNotFound,
    ModelIntegrityError,
    ModelNotFound,
    OutcomeConflict,
    RiskError,
)
from clearguard.risk.features import FEATURE_NAMES, PRICE_FEATURES
from clearguard.risk.live import PartyIndex, records_from_declaration
from clearguard.risk.lodging import ReviewFinding, RiskOutcome
from clearguard.risk.metrics import FloatArray
from clearguard.risk.metrics import evaluate as evaluate_ranking
from clearguard.risk.policy import RiskPolicy, load_policy
from clearguard.risk.record import RiskRecord
from clearguard.risk.registry import read_verified, write_model_file
from clearguard.risk.rules import Rule, RuleHit, UnitValueContext, WatchlistRule, evaluate_rules
from clearguard.risk.scorer import Scorer, dump_model, load_model
from clearguard.risk.sealing import ItemVault, OwnerOf, open_items
from clearguard.risk.sealing import where as items_ref
from clearguard.risk.tables import RiskAssessmentRow, RiskHistoryRow, RiskModelRow, RiskOutcomeRow
from clearguard.risk.training import TrainingConfig, train

_MODEL_REF_KEY = "clearguard.risk.current_model"
# Run by every lodging transaction: on the driver (see DriverStatement).
_CURRENT_MODEL_REF = DriverStatement(
    select(RiskModelRow.version, RiskModelRow.file_path, RiskModelRow.file_sha256).where(
        RiskModelRow.is_current.is_(True)
    )
)
_log = logging.getLogger(__name__)
IMPORT_CHUNK = 1000
_UV_Z = FEATURE_NAMES.index("unit_value_z")
_RECORD_COLUMNS = (
    "declaration_ref", "item", "date", "office", "procedure", "hs6", "origin_country", "departure_country",
    "transport_mode", "tax_rate", "tax_type", "net_mass_kg", "item_price", "declarant_id", "importer_id",
    "seller_id",
)  # fmt: skip

# Verified, parsed models by file hash: loading one takes ~100 ms, scoring must take < 5 ms.
_SCORERS: dict[str, Scorer] = {}
_SCORERS_LOCK = threading.Lock()


def clear_model_cache() -> None:
    """Forget parsed models, so the next use re-reads and re-verifies the file."""
    with _SCORERS_LOCK:
        _SCORERS.clear()


@dataclass(frozen=True, slots=True)
class ImportSummary:
    read: int
    inserted: int
    already_present: int


@dataclass(frozen=True, slots=True)
class ModelInfo:
    version: int
    created_at: datetime
    data_hash: str
    history_lines: int
    file_path: str
    file_sha256: str
    metrics: dict[str, Any]
    is_current: bool

    @classmethod
    def from_row(cls, row: RiskModelRow) -> ModelInfo:
        return cls(
            row.version, row.created_at, row.data_hash, row.history_lines, row.file_path, row.file_sha256,
            dict(row.metrics), row.is_current,
        )  # fmt: skip

    @property
    def name(self) -> str:
        return f"v{self.version}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["model"] = self.name
        return data


@dataclass(frozen=True, slots=True)
class Assessment:
    declaration_ref: str
    channel: str
    basis: str
    random: bool
    score: float | None
    model_version: int | None
    reasons: dict[str, Any]
    assessed_at: datetime
    created: bool  # False: an earlier recorded decision was returned unchanged
    confirmed_channel: str | None = None

    @property
    def requires_confirmation(self) -> bool:
        return self.channel == Channel.RED.value and self.confirmed_channel is None

    @classmethod
    def from_row(cls, row: RiskAssessmentRow, *, created: bool) -> Assessment:
        return cls(
            row.declaration_ref, row.channel, row.basis, row.random, row.score, row.model_version,
            dict(row.reasons), row.assessed_at, created, row.confirmed_channel,
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "declaration": self.declaration_ref,
            "channel": self.channel,
            "basis": self.basis,
            "random": self.random,
            "score": self.score,
            "model": None if self.model_version is None else f"v{self.model_version}",
            "requires_confirmation": self.requires_confirmation,
            "confirmed_channel": self.confirmed_channel,
            "assessed_at": self.assessed_at.isoformat(),
            "reasons": self.reasons,
        }


@dataclass(frozen=True, slots=True)
class Evaluation:
    document: dict[str, Any]  # the JSON of `risk evaluate`
    scores: FloatArray
    labels: FloatArray
    duty: FloatArray


@dataclass(frozen=True, slots=True)
class ReportRow:
    office: str
    channel: str
    declarations: int
    share_of_office: float
    random: int
    outcomes: int
    violations: int
    # Outcomes of randomly selected declarations: an unbiased hit rate to hold the model's against.
    random_outcomes: int = 0
    random_violations: int = 0

    @property
    def hit_rate(self) -> float | None:
        return self.violations / self.outcomes if self.outcomes else None

    @property
    def random_hit_rate(self) -> float | None:
        return self.random_violations / self.random_outcomes if self.random_outcomes else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["hit_rate"] = self.hit_rate
        data["random_hit_rate"] = self.random_hit_rate
        return data


_RECORD_VALUES = attrgetter(*_RECORD_COLUMNS)


def _record_json(record: RiskRecord) -> dict[str, Any]:
    data = dict(zip(_RECORD_COLUMNS, _RECORD_VALUES(record), strict=True))
    data["date"] = record.date.isoformat()
    return data


# json.dumps(..., sort_keys=True, separators=(",", ":")) builds this encoder on every call.
_CONTENT = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def _identity(value: str) -> str:
    return value


def _row_record(row: Any) -> RiskRecord:
    return RiskRecord(
        row.declaration_ref, row.item, row.date, row.office, row.procedure, row.hs6, row.origin_country,
        row.departure_country, row.transport_mode, row.tax_rate, row.tax_type, row.net_mass_kg,
        row.item_price,
        row.declarant_id, row.importer_id, row.seller_id, row.fraud, row.critical,
    )  # fmt: skip


@dataclass
class RiskService:
    settings: Settings = field(default_factory=get_settings)
    policy: RiskPolicy | None = None
    # Blind index of an EORI (crypto capability); identity when None (tests, KCS ids).
    party_index: PartyIndex | None = None
    # HS6 -> tariff rate in percent, when the lodging side knows it; live items otherwise score without.
    tax_rates: Mapping[str, float] | None = None
    rng: random.Random = field(default_factory=random.SystemRandom)
    clock: Callable[[], datetime] = utcnow
    # The crypto service, and the party reference of a declarant id: with both, the scored records of
    # live declarations are sealed under the declarant's key (clearguard.wiring sets them). Without,
    # they are kept as they are: for pseudonymous history (KCS) and tests only.
    vault: ItemVault | None = None
    item_owner: OwnerOf | None = None

    def __post_init__(self) -> None:
        if self.policy is None:
            self.policy = load_policy(self.settings.risk_policy_file)
        self._rules = self._index_watchlists(self.policy.rules)

    def _index_watchlists(self, rules: Sequence[Rule]) -> list[Rule]:
        """Watchlists name EORIs in clear; live records carry blind indexes: match either."""
        if self.party_index is None:
            return list(rules)
        index = self.party_index
        return [
            rule.model_copy(update={"ids": rule.ids | {index(i.replace(" ", "").upper()) for i in rule.ids}})
            if isinstance(rule, WatchlistRule)
            else rule
            for rule in rules
        ]

    @property
    def _policy(self) -> RiskPolicy:
        assert self.policy is not None
        return self.policy

    # ------------------------------------------------------------------ history

    def import_history(
        self,
        session: Session,
        records: Iterable[RiskRecord],
        *,
        source: str = "kcs",
        progress: Callable[[int], None] | None = None,
    ) -> ImportSummary:
        """Adds lines with outcomes; lines already imported (same source and reference) are skipped."""
        read = inserted = present = 0
        now = self.clock()
        batch: list[RiskRecord] = []

        def flush() -> None:
            nonlocal inserted, present
            refs = {f"{source}:{r.declaration_ref}:{r.item}": r for r in batch}
            existing = set(
                session.scalars(select(RiskHistoryRow.source_ref).where(RiskHistoryRow.source_ref.in_(refs)))
            )
            rows = [
                {**_record_json(r), "date": r.date, "source": source, "source_ref": ref, "fraud": r.fraud,
                 "critical": r.critical or 0, "duty_recovered": None, "selection": None, "recorded_at": now}
                for ref, r in refs.items()
                if ref not in existing
            ]  # fmt: skip
            if rows:
                session.execute(insert(RiskHistoryRow), rows)
            inserted += len(rows)
            present += len(batch) - len(rows)
            if progress is not None:
                progress(len(batch))
            batch.clear()

        for record in records:
            if record.fraud is None:
                raise RiskError(f"line {record.declaration_ref}: history needs a control outcome", field="Fraud")
            read += 1
            batch.append(record)
            if len(batch) >= IMPORT_CHUNK:
                flush()
        if batch:
            flush()
        return ImportSummary(read, inserted, present)

    def history(self, session: Session) -> list[RiskRecord]:
        columns = [getattr(RiskHistoryRow, c) for c in (*_RECORD_COLUMNS, "fraud", "critical")]
        rows = session.execute(select(*columns).order_by(RiskHistoryRow.date, RiskHistoryRow.id))
        return [_row_record(row) for row in rows]

    # ------------------------------------------------------------------ models

    def train(self, session: Session, *, holdout: float = 0.15, seed: int = 42) -> ModelInfo:
        """Trains on all history, registers the model and makes it current."""
        config = TrainingConfig(holdout=holdout, seed=seed, num_threads=self.settings.risk_num_threads)
        records = self.history(session)
        model = train(records, config)
        blob = dump_model(model)
        version = (session.scalar(select(func.max(RiskModelRow.version))) or 0) + 1
        path, digest = write_model_file(self.settings.var_dir, version, blob)
        session.execute(update(RiskModelRow).values(is_current=False))
        row = RiskModelRow(
            version=version, created_at=self.clock(), data_hash=model.data_hash, history_lines=len(records),
            file_path=path, file_sha256=digest, metrics=model.metrics, params=model.params, is_current=True,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return ModelInfo.from_row(row)

    def models(self, session: Session) -> list[ModelInfo]:
        rows = session.scalars(select(RiskModelRow).order_by(RiskModelRow.version))
        return [ModelInfo.from_row(r) for r in rows]

    def model(self, session: Session, version: int | None = None) -> ModelInfo | None:
        """The given version (ModelNotFound if absent), or the current one (None before any training)."""
        if version is None:
            row = session.scalar(select(RiskModelRow).where(RiskModelRow.is_current.is_(True)))
            return None if row is None else ModelInfo.from_row(row)
        found = session.get(RiskModelRow, version)
        if found is None:
            raise ModelNotFound(f"model v{version}: no such version", field="model")
        return ModelInfo.from_row(found)

    def _current_model_ref(self, session: Session) -> ModelInfo | None:
        """The current model without its metrics document, looked up once per session: a batch of
        lodgings is one transaction, and a model trained meanwhile applies from the next one."""
        if _MODEL_REF_KEY in session.info:
            cached: ModelInfo | None = session.info[_MODEL_REF_KEY]
            return cached
        rows = _CURRENT_MODEL_REF.rows(session)
        info = None
        if rows:
            version, file_path, file_sha256 = rows[0]
            info = ModelInfo(version, self.clock(), "", 0, file_path, file_sha256, {}, True)
        session.info[_MODEL_REF_KEY] = info
        return info

    def scorer(self, info: ModelInfo) -> Scorer:
        with _SCORERS_LOCK:
            cached = _SCORERS.get(info.file_sha256)
        if cached is not None:
            return cached
        blob = read_verified(self.settings.var_dir, info.file_path, info.file_sha256)
        scorer = Scorer(load_model(blob))
        with _SCORERS_LOCK:
            if len(_SCORERS) >= 4:
                _SCORERS.pop(next(iter(_SCORERS)))
            _SCORERS[info.file_sha256] = scorer
        return scorer

    def evaluate(self, session: Session, records: Sequence[RiskRecord], *, version: int | None = None) -> Evaluation:
        """Scores labelled lines with a registered model (current by default) and measures the ranking."""
        info = self.model(session, version)
        if info is None:
            raise ModelNotFound("no model trained yet: run `clearguard risk train`", field="model")
        labelled = [r for r in records if r.fraud is not None]
        if not labelled:
            raise RiskError("evaluation needs lines with outcomes", field="Fraud")
        scorer = self.scorer(info)
        scores = scorer.predict(scorer.features(labelled))
        labels = np.array([r.fraud for r in labelled], dtype=np.float64)
        duty = np.array([r.duty for r in labelled], dtype=np.float64)
        document = {"model": info.name, **evaluate_ranking(scores, labels, duty)}
        return Evaluation(document, scores, labels, duty)

    # ------------------------------------------------------------------ assessment

    def assess(
        self,
        session: Session,
        records: Sequence[RiskRecord],
        *,
        extra_hits: Sequence[RuleHit] = (),
        fresh: bool = False,
    ) -> Assessment:
        """Score, rules and channel for one declaration (its items as risk records), recorded.

        The same declaration with the same content returns the recorded decision unchanged; changed
        content (an amendment) is assessed anew and never gets a weaker channel than before."""
        [assessment] = self.assess_many(session, [(records, extra_hits)], fresh=fresh)
        return assessment

    def assess_many(
        self,
        session: Session,
        declarations: Sequence[tuple[Sequence[RiskRecord], Sequence[RuleHit]]],
        *,
        fresh: bool = False,
    ) -> list[Assessment]:
        """`assess` for several declarations ((records, extra hits) each) in one go, with the same
        decisions: one feature matrix, one model call for the scores and one for the explanations,
        the random draws taken in order, and one multi-row insert of the recorded assessments."""
        contents: list[str] = []
        items: list[list[dict[str, Any]]] = []  # the records as stored, and as their content hash covers them
        texts: list[str] = []  # ... and as JSON text, what is sealed
        for records, _hits in declarations:
            if not records:
                raise RiskError("assess: a declaration needs at least one item", field="items")
            reference = records[0].declaration_ref
            if any(r.declaration_ref != reference for r in records):
                raise RiskError("assess: records of more than one declaration", field="declaration_ref")
            items.append([_record_json(r) for r in records])
            texts.append(_CONTENT.encode(items[-1]))
            contents.append(hashlib.sha256(texts[-1].encode()).hexdigest())
        results: list[Assessment | None] = [None] * len(declarations)
        earlier: list[Sequence[RiskAssessmentRow]] = [()] * len(declarations)
        if not fresh:  # a fresh declaration (an MRN just made) has no earlier decision to look up
            pending.write(session)
            for n, ((records, _hits), content) in enumerate(zip(declarations, contents, strict=True)):
                earlier[n] = session.scalars(
                    select(RiskAssessmentRow)
                    .where(RiskAssessmentRow.declaration_ref == records[0].declaration_ref)
                    .order_by(RiskAssessmentRow.id.desc())
                ).all()
                for found in earlier[n]:
                    if self._same_content(session, found, content, texts[n]):
                        results[n] = Assessment.from_row(found, created=False)
                        break
        todo = [n for n, found in enumerate(results) if found is None]
        if not todo:
            return [r for r in results if r is not None]
        info = self._current_model_ref(session)
        scorer: Scorer | None = None
        refused: str | None = None
        if info is not None:
            try:
                scorer = self.scorer(info)
            except ModelIntegrityError as exc:
                # Lodging goes on (rules and random selection, as before any training) and the refusal
                # is recorded in every decision it affects, so it cannot go unnoticed.
                _log.error("risk model v%s refused: %s", info.version, exc)
                refused = str(exc)
                info = None
        scored = (
            self._score_many(scorer, info, [declarations[n][0] for n in todo])
            if info is not None and scorer is not None
            else None
        )
        now = self.clock()
        rows: list[dict[str, Any]] = []
        to_seal: list[tuple[dict[str, Any], str, str]] = []  # (row, declarant id, records as JSON text)
        for k, n in enumerate(todo):
            records, extra_hits = declarations[n]
            office = records[0].office
            reasons: dict[str, Any] = {"policy": self._policy.version}
            if refused is not None:
                reasons["model_refused"] = refused
            top_share: float | None = None
            score: float | None = None
            contexts: list[UnitValueContext] | None = None
            if scored is not None:
                score, top_share, contexts, explained = scored[k]
                reasons.update(explained)
            else:
                reasons["model"] = None
                reasons["note"] = "no usable model: rules and random selection only"
            hits = [*evaluate_rules(self._rules, records, contexts), *extra_hits]
            decision = decide(self._policy.channels, office, top_share, len(hits), self.rng.random(), self.rng.random())
            channel = decision.channel
            notes = list(decision.notes)
            if earlier[n] and Channel(earlier[n][0].channel).level > channel.level:
                channel = stronger(channel, Channel(earlier[n][0].channel))
                notes.append(f"kept the earlier {channel.value} channel: re-assessment never lowers a decision")
            reasons["rule_hits"] = [h.to_json() for h in hits]
            reasons["decision"] = {**decision.to_json(), "channel": channel.value, "notes": notes}
            reference = records[0].declaration_ref
            version = None if info is None else info.version
            rows.append(
                {
                    "declaration_ref": reference, "content_hash": contents[n], "office": office, "assessed_at": now,
                    "model_version": version, "score": score, "channel": channel.value,
                    "basis": decision.basis.value, "random": decision.random, "reasons": reasons, "items": items[n],
                    "items_key_id": None, "sealed_items": None,
                }
            )  # fmt: skip
            to_seal.append((rows[-1], records[0].declarant_id, texts[n]))
            results[n] = Assessment(
                reference, channel.value, decision.basis.value, decision.random, score, version, dict(reasons), now,
                True,
            )  # fmt: skip
        self._seal_items(session, to_seal)
        # In the caller's transaction: inserted together before it commits (or before a read of them).
        pending.add(session, rows)
        return [r for r in results if r is not None]

    def _seal_items(self, session: Session, rows: Sequence[tuple[dict[str, Any], str, str]]) -> None:
        """Seal each row's records under its declarant's key, when a vault is wired: the keys of a whole
        batch looked up at once (lodging resolves the same parties right after, from the transaction's
        own map), the values sealed in one call. The content hash is then taken of the sealed value: one
        of the clear records would let anyone who can guess the other values try prices until it
        matches."""
        owner = self.item_owner
        if self.vault is None or owner is None:
            return
        sealable = [(row, declarant_id, text) for row, declarant_id, text in rows if declarant_id]
        if not sealable:
            return
        keys = self.vault.keys_for_parties(session, [owner(declarant_id) for _row, declarant_id, _t in sealable])
        blobs = self.vault.seal_many(
            session,
            [
                (key_id, items_ref(row["declaration_ref"]), text)
                for key_id, (row, _d, text) in zip(keys, sealable, strict=True)
            ],
        )
        for key_id, (row, _d, _t), blob in zip(keys, sealable, blobs, strict=True):
            row.update(items=[], items_key_id=key_id, sealed_items=blob, content_hash=hashlib.sha256(blob).hexdigest())

    def _same_content(self, session: Session, row: RiskAssessmentRow, content: str, text: str) -> bool:
        """Whether an earlier assessment scored these very records."""
        if row.sealed_items is None or row.items_key_id is None:
            return row.content_hash == content
        if self.vault is None:
            return False  # cannot tell: assessed anew (never with a weaker channel)
        return open_items(self.vault, session, row.declaration_ref, row.items_key_id, row.sealed_items) == text

    def _scored_records(self, session: Session, row: RiskAssessmentRow) -> list[dict[str, Any]]:
        """The records an assessment scored; none once the declarant's key is shredded."""
        if row.sealed_items is None or row.items_key_id is None:
            return list(row.items)
        if self.vault is None:
            raise RiskError(
                f"{row.declaration_ref}: its scored records are sealed and no crypto service is wired",
                field="mrn",
            )
        text = open_items(self.vault, session, row.declaration_ref, row.items_key_id, row.sealed_items)
        if text is None:
            return []
        records: list[dict[str, Any]] = json.loads(text)
        return records

    @staticmethod
    def _score_many(
        scorer: Scorer, info: ModelInfo, declarations: Sequence[Sequence[RiskRecord]]
    ) -> list[tuple[float, float, list[UnitValueContext], dict[str, Any]]]:
        """(score, top share, unit-value contexts, model reasons) of each declaration."""
        everything = [r for records in declarations for r in records]
        x = scorer.features(everything)
        bounds: list[tuple[int, int]] = []
        start = 0
        for records in declarations:
            bounds.append((start, start + len(records)))
            start += len(records)
        explained = scorer.score_and_explain_many(x, bounds)
        z_all = x[:, _UV_Z].tolist()
        history_all = scorer.unit_value_history(everything)
        out: list[tuple[float, float, list[UnitValueContext], dict[str, Any]]] = []
        for records, (first, last), (scores, top, contributions) in zip(declarations, bounds, explained, strict=True):
            # The riskiest item drives the declaration's score and is the one explained.
            score = float(scores[top])
            top_share = scorer.top_share(score, records[0].office)
            contexts = [
                UnitValueContext(None if math.isnan(z) else z, history)
                for z, history in zip(z_all[first:last], history_all[first:last], strict=True)
            ]
            reasons = {
                "model": info.name,
                "score": round(score, 6),
                "top_share": round(top_share, 6),
                "items": [{"item": r.item, "score": round(float(s), 6)} for r, s in zip(records, scores, strict=True)],
                "top_item": records[top].item,
                "contributions": [
                    {
                        **c.to_json(),
                        # A value computed from the price would give the price back (with the clear mass,
                        # rate or the model's own HS6 statistics): only its contribution is kept.
                        "value": None if c.feature in PRICE_FEATURES else scorer.describe_value(c.feature, c.value),
                    }
                    for c in contributions
                ],
            }
            out.append((score, top_share, contexts, reasons))
        return out

    def assess_declaration(
        self,
        session: Session,
        *,
        mrn: str,
        payload: dict[str, Any],
        findings: Sequence[ReviewFinding],
        declaration_id: int | None = None,
        fresh: bool = False,
    ) -> RiskOutcome:
        """The declarations lifecycle's RiskAssessor port: called inside the lodging transaction."""
        [outcome] = self.assess_declarations(session, [(mrn, payload, findings)], fresh=fresh)
        return outcome

    def assess_declarations(
        self,
        session: Session,
        items: Sequence[tuple[str, dict[str, Any], Sequence[ReviewFinding]]],
        *,
        fresh: bool = False,
    ) -> list[RiskOutcome]:
        """`assess_declaration` for a batch of (MRN, payload, findings), in order, with the same
        outcomes: for bulk lodging, one call per transaction instead of one per declaration."""
        on = self.clock().date()
        party_index = self.party_index or _identity
        declarations: list[tuple[Sequence[RiskRecord], Sequence[RuleHit]]] = []
        for mrn, payload, findings in items:
            records = records_from_declaration(
                payload, reference=mrn, on=on, party_index=party_index, tax_rates=self.tax_rates
            )
            review = [RuleHit(f.rule_id, 0, f.message) for f in findings if f.severity == "review"]
            declarations.append((records, review))
        return [
            RiskOutcome(a.channel, a.score, a.to_json()) for a in self.assess_many(session, declarations, fresh=fresh)
        ]

    def assessment(self, session: Session, reference: str) -> Assessment:
        return Assessment.from_row(self._latest(session, reference), created=False)

    def assessments_of(self, session: Session, references: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Every recorded assessment of each reference, oldest first, as `Assessment.to_json`: what
        `ledger verify` checks against the decisions the declarations committed. Where the scored
        records are sealed, `sealed_items_intact` says whether they still authenticate (AES-GCM under
        the declarant's key, bound to the declaration): edited sealed bytes are tampering, a
        shredded key is not."""
        pending.write(session)
        found: dict[str, list[dict[str, Any]]] = {}
        unique = sorted(set(references))
        for start in range(0, len(unique), 1000):
            rows = session.scalars(
                select(RiskAssessmentRow)
                .where(RiskAssessmentRow.declaration_ref.in_(unique[start : start + 1000]))
                .order_by(RiskAssessmentRow.id)
            )
            for row in rows:
                record = Assessment.from_row(row, created=False).to_json()
                if self.vault is not None and row.sealed_items is not None and row.items_key_id is not None:
                    try:
                        open_items(self.vault, session, row.declaration_ref, row.items_key_id, row.sealed_items)
                        record["sealed_items_intact"] = True
                    except DecryptionFailed:
                        record["sealed_items_intact"] = False
                found.setdefault(row.declaration_ref, []).append(record)
        return found

    def latest_of(self, session: Session, references: Sequence[str]) -> dict[str, Assessment]:
        """The most recent recorded assessment of each reference that has one, without opening the
        sealed records: what an officer's queue ranks by (the portal)."""
        pending.write(session)
        found: dict[str, Assessment] = {}
        unique = sorted(set(references))
        for start in range(0, len(unique), 1000):
            latest = (
                select(func.max(RiskAssessmentRow.id))
                .where(RiskAssessmentRow.declaration_ref.in_(unique[start : start + 1000]))
                .group_by(RiskAssessmentRow.declaration_ref)
            )
            for row in session.scalars(select(RiskAssessmentRow).where(RiskAssessmentRow.id.in_(latest))):
                found[row.declaration_ref] = Assessment.from_row(row, created=False)
        return found

    def dispose(self, session: Session, references: Sequence[str]) -> int:
        """Deletes every risk record of the declarations `references` (MRNs) in the caller's
        transaction, as a retention run disposes of them; returns how many rows went."""
        return dispose_records(session, references)

    def _latest(self, session: Session, reference: str) -> RiskAssessmentRow:
        """The most recent recorded assessment of a declaration."""
        pending.write(session)
        row = session.scalars(
            select(RiskAssessmentRow)
            .where(RiskAssessmentRow.declaration_ref == reference)
            .order_by(RiskAssessmentRow.id.desc())
            .limit(1)
        ).first()
        if row is None:
            raise AssessmentNotFound(f"{reference}: no risk assessment recorded", field="mrn")
        return row

    def confirm(self, session: Session, reference: str, *, officer: str, channel: str) -> Assessment:
        """An officer confirms (or changes) the recommended channel; the recorded score stays as it was."""
        wanted = Channel(channel)
        row = self._latest(session, reference)
        row.confirmed_channel = wanted.value
        row.confirmed_by = officer
        row.confirmed_at = self.clock()
        session.flush()
        return Assessment.from_row(row, created=False)

    # ------------------------------------------------------------------ outcomes and oversight

    def record_outcome(
        self,
        session: Session,
        reference: str,
        *,
        officer: str,
        violation: bool,
        critical: bool = False,
        duty_recovered: float | None = None,
        note: str | None = None,
    ) -> int:
        """Records a control outcome and adds the declaration's items to the history (for retraining).
        Returns the number of history lines added."""
        if critical and not violation:
            raise RiskError("critical: a critical violation is a violation (--violation)", field="critical")
        if duty_recovered is not None and duty_recovered < 0:
            raise RiskError("duty_recovered: must be >= 0", field="duty_recovered")
        row = self._latest(session, reference)
        if session.scalar(select(RiskOutcomeRow.id).where(RiskOutcomeRow.declaration_ref == reference)):
            raise OutcomeConflict(f"{reference}: a control outcome is already recorded", field="mrn")
        now = self.clock()
        session.add(
            RiskOutcomeRow(
                declaration_ref=reference, assessment_id=row.id, recorded_at=now, officer=officer,
                violation=violation, critical=critical, duty_recovered=duty_recovered, note=note,
            )
        )  # fmt: skip
        level = 2 if critical else int(violation)
        lines = [
            {
                **item, "date": datetime.fromisoformat(item["date"]).date(), "source": "officer",
                "source_ref": f"officer:{reference}:{item['item']}", "fraud": int(violation),
                "critical": level,
                "duty_recovered": duty_recovered if index == 0 else None, "selection": row.basis,
                "recorded_at": now,
            }
            for index, item in enumerate(self._scored_records(session, row))
        ]  # fmt: skip
        if lines:  # none when the declarant was erased: the outcome is kept, its records are gone
            session.execute(insert(RiskHistoryRow), lines)
        session.flush()
        return len(lines)

    def report(self, session: Session) -> list[ReportRow]:
        """Control and hit rates per office and channel, so drift and bias show."""
        pending.write(session)
        latest = (
            select(RiskAssessmentRow.declaration_ref, func.max(RiskAssessmentRow.id).label("id"))
            .group_by(RiskAssessmentRow.declaration_ref)
            .subquery()
        )
        rows = session.execute(
            select(
                RiskAssessmentRow.office,
                func.coalesce(RiskAssessmentRow.confirmed_channel, RiskAssessmentRow.channel),
                func.count(),
                func.sum(cast(RiskAssessmentRow.random, Integer)),
                func.count(RiskOutcomeRow.id),
                func.sum(cast(RiskOutcomeRow.violation, Integer)),
                func.sum(case((RiskAssessmentRow.random.is_(True) & RiskOutcomeRow.id.is_not(None), 1), else_=0)),
                func.sum(case((RiskAssessmentRow.random.is_(True) & RiskOutcomeRow.violation.is_(True), 1), else_=0)),
            )
            .join(latest, latest.c.id == RiskAssessmentRow.id)
            .outerjoin(RiskOutcomeRow, RiskOutcomeRow.declaration_ref == RiskAssessmentRow.declaration_ref)
            .group_by(
                RiskAssessmentRow.office,
                func.coalesce(RiskAssessmentRow.confirmed_channel, RiskAssessmentRow.channel),
            )
            .order_by(RiskAssessmentRow.office)
        ).all()
        totals: dict[str, int] = {}
        for office, _channel, count, *_ in rows:
            totals[office] = totals.get(office, 0) + int(count)
        order = {c.value: c.level for c in Channel}
        out = [
            ReportRow(office, channel, int(count), int(count) / totals[office], int(rnd or 0), int(outcomes),
                      int(violations or 0), int(rnd_outcomes or 0), int(rnd_violations or 0))
            for office, channel, count, rnd, outcomes, violations, rnd_outcomes, rnd_violations in rows
        ]  # fmt: skip
        out.sort(key=lambda r: (r.office, -order.get(r.channel, 0)))
        return out
