"""Base for API request bodies: strict JSON, unknown fields refused.

Strict mode keeps JSON types as sent: `false` is not 0, `"1"` is not 1, `1` is not `"1"`. Text may
not contain NUL characters: PostgreSQL cannot store them, and no legitimate value has one.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class StrictModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value
