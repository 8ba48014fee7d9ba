"""Base for API request bodies: strict JSON, unknown fields refused.

Strict mode keeps JSON types as sent: `false` is not 0, `"1"` is not 1, `1` is not `"1"`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
