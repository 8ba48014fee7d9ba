"""Declarations: the lifecycle of H1 and H7 declarations (lodge, amend, decide, invalidate), MRNs,
their tables, the access gate around them, and the ledger's view of their records.

The service is the one way in; the ports are what it needs from the capabilities below it (wired in
clearguard.wiring). The routes and commands (entry-layer adapters) are imported by the API and CLI
roots only, not from here. The declaration model itself is clearguard.declaration_model."""

from clearguard.declarations.commitments import DeclarationCommitments
from clearguard.declarations.disposal import Candidate, Disposal
from clearguard.declarations.gate import DeclarationGate, actor_of
from clearguard.declarations.group_commit import GroupCommitter
from clearguard.declarations.parties import normalise_eori, normalise_name, person_ref, resolve, trader_ref
from clearguard.declarations.ports import (
    AuditRecorder,
    BlindIndexer,
    FieldVault,
    LedgerSink,
    OneByOne,
    RetentionSchedule,
    RiskAssessor,
)
from clearguard.declarations.results import Actor, DeclarationView, ListFilter, LodgeResult, Page, Summary
from clearguard.declarations.service import ComplianceChannel, DeclarationService
from clearguard.declarations.statistics import LINE_CATEGORIES as STATISTICAL_LINE_CATEGORIES
from clearguard.declarations.views import declaration as declaration_view
from clearguard.declarations.views import summaries as declaration_summaries

__all__ = [
    "STATISTICAL_LINE_CATEGORIES",
    "Actor",
    "AuditRecorder",
    "BlindIndexer",
    "Candidate",
    "ComplianceChannel",
    "DeclarationCommitments",
    "DeclarationGate",
    "DeclarationService",
    "DeclarationView",
    "Disposal",
    "FieldVault",
    "GroupCommitter",
    "LedgerSink",
    "ListFilter",
    "LodgeResult",
    "OneByOne",
    "Page",
    "RetentionSchedule",
    "RiskAssessor",
    "Summary",
    "actor_of",
    "declaration_summaries",
    "declaration_view",
    "normalise_eori",
    "normalise_name",
    "person_ref",
    "resolve",
    "trader_ref",
]
