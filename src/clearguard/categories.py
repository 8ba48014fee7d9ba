"""Data categories (DESIGN.md, Data categories): every declaration field carries one.

The category decides encryption at rest, redaction by role, retention and whether a field may be
shared with a partner administration.
"""

from __future__ import annotations

from enum import StrEnum


class DataCategory(StrEnum):
    CODE = "code"
    TRADE = "trade"
    CONFIDENTIAL = "confidential"
    PERSONAL = "personal"
    BIOMETRIC = "biometric"

    @property
    def protected(self) -> bool:
        """Stored only encrypted."""
        return self in PROTECTED


PROTECTED = frozenset({DataCategory.CONFIDENTIAL, DataCategory.PERSONAL, DataCategory.BIOMETRIC})
