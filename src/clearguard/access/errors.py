"""Access errors with stable problem types."""

from __future__ import annotations

from clearguard.errors import Forbidden


class BreakGlassRequired(Forbidden):
    """An officer asked for another office's declaration without a written justification."""

    slug = "break-glass-required"
    title = "Another office's record: a written justification is required"
