"""A finding: one broken rule, at one field, with a message a person can act on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"  # the declaration is rejected
    WARNING = "warning"  # accepted, the declarant is told
    REVIEW = "review"  # accepted, routed to an officer (at least yellow)


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    severity: Severity
    pointer: str  # RFC 6901 JSON pointer into the submitted document
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "severity": self.severity.value,
            "pointer": self.pointer,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(data["rule_id"], Severity(data["severity"]), data["pointer"], data["message"])


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)
