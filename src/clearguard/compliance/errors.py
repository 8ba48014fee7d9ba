"""Errors of the compliance capability."""

from __future__ import annotations

from clearguard.errors import ConfigurationError, InputError


class RulePackError(ConfigurationError):
    """A rule pack cannot be used: unreadable YAML, an unknown check, a bad severity, a missing key.

    The message names the pack file, the rule and the key, so whoever edited the YAML can fix it.
    """

    slug = "rule-pack-invalid"
    title = "Rule pack is invalid"


class InvalidEori(InputError):
    """An EORI number given outside a declaration (a filter, an account, a mandate) that breaks the
    format rule of the pack in effect: 422 naming the field and the rule, exit 2 from the CLI."""

    slug = "invalid-eori"
    title = "Not a well-formed EORI number"
    status = 422
