"""Errors of the risk engine; each maps to a problem type and a CLI exit code through its base."""

from __future__ import annotations

from clearguard.errors import ClearGuardError, Conflict, InputError, NotFound


class RiskError(ClearGuardError):
    slug = "risk-error"
    title = "Risk engine error"


class RiskInputError(InputError):
    """A file the risk engine was given cannot be read (missing columns, not UTF-8, ...)."""

    slug = "risk-unreadable-input"


class NoHistory(RiskError):
    """Training needs history lines with outcomes, and enough of both classes."""

    slug = "risk-no-history"
    title = "Not enough history to train"
    status = 409


class ModelNotFound(NotFound):
    slug = "risk-model-not-found"
    title = "Risk model not found"


class ModelIntegrityError(RiskError):
    """A model file whose SHA-256 differs from its registry record is never loaded."""

    slug = "risk-model-integrity"
    title = "Risk model file does not match its registry record"


class AssessmentNotFound(NotFound):
    slug = "risk-assessment-not-found"
    title = "Risk assessment not found"


class OutcomeConflict(Conflict):
    slug = "risk-outcome-conflict"
    title = "Control outcome already recorded"


class PolicyError(RiskError):
    """The rules/channel policy YAML is unusable."""

    slug = "risk-policy-invalid"
    title = "Risk policy file is invalid"
    exit_code = 2
