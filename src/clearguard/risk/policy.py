"""The risk policy file (YAML): channel targets per office, exploration share and the rules layer.

Changing a target, a watchlist or a restricted combination needs no code change. The default policy
ships in the package; `risk_policy_file` in the settings points to another one.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clearguard.risk.channels import ChannelPolicy
from clearguard.risk.errors import PolicyError
from clearguard.risk.rules import Rule
from clearguard.user_files import load_yaml


class RiskPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str = Field(default="1", min_length=1, max_length=40)
    channels: ChannelPolicy = Field(default_factory=ChannelPolicy)
    rules: tuple[Rule, ...] = ()


def parse_policy(text: str, *, source: str = "policy") -> RiskPolicy:
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not YAML ({exc})".replace("\n", " ")) from None
    try:
        policy = RiskPolicy.model_validate(data or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PolicyError(f"{source}: {where}: {first['msg']}", field=where) from None
    ids = [rule.id for rule in policy.rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PolicyError(f"{source}: rule ids repeat: {', '.join(duplicates)}", field="rules")
    return policy


def load_policy(path: Path | None = None) -> RiskPolicy:
    if path is None:
        text = resources.files("clearguard.risk").joinpath("policy.yaml").read_text("utf-8")
        return parse_policy(text, source="default policy")
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    return parse_policy(text, source=str(path))
