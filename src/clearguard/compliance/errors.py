"""Errors of the compliance capability."""

from __future__ import annotations

from clearguard.errors import ConfigurationError


class RulePackError(ConfigurationError):
    """A rule pack cannot be used: unreadable YAML, an unknown check, a bad severity, a missing key.

    The message names the pack file, the rule and the key, so whoever edited the YAML can fix it.
    """

    slug = "rule-pack-invalid"
    title = "Rule pack is invalid"
