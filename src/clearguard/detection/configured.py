"""The detection configuration and rule set that the settings put in force."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from clearguard.config import Settings
from clearguard.detection.errors import DetectionInputError
from clearguard.detection.ruleset import RuleSet, load_rules
from clearguard.detection.thresholds import DetectionConfig


def detection_config(settings: Settings) -> DetectionConfig:
    """Thresholds: DetectionConfig's defaults, overridden by `detection_thresholds`."""
    try:
        return DetectionConfig.model_validate(dict(settings.detection_thresholds))
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        raise DetectionInputError(
            f"detection_thresholds.{name}: {first['msg']}", field=f"detection_thresholds.{name}"
        ) from None


def detection_timezone(settings: Settings) -> str:
    try:
        ZoneInfo(settings.detection_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DetectionInputError(
            f"detection_timezone: {settings.detection_timezone[:60]!r} is not an IANA time zone",
            field="detection_timezone",
        ) from None
    return settings.detection_timezone


def rule_set(settings: Settings, config: DetectionConfig | None = None) -> RuleSet:
    """The shipped rules and the administration's folder, compiled with the configured thresholds."""
    extra = [settings.detection_rules_dir] if settings.detection_rules_dir is not None else []
    return load_rules(config or detection_config(settings), extra)
