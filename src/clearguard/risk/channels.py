"""Channel policy, like ASYCUDA selectivity: per-office target rates for red (physical control),
yellow (documents) and blue (post-clearance audit), the rest green.

A minimum random share of the control budget is drawn uniformly (exploration), so the outcomes that
training learns from are not only those the model chose. A rule hit forces at least yellow. Red is a
recommendation that an officer confirms. Pure: the caller supplies the random draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Channel(StrEnum):
    GREEN = "green"
    BLUE = "blue"
    YELLOW = "yellow"
    RED = "red"

    @property
    def level(self) -> int:
        # Strength of control: blue is an audit after release, weaker than a documentary check.
        return _LEVEL[self]


_LEVEL = {Channel.GREEN: 0, Channel.BLUE: 1, Channel.YELLOW: 2, Channel.RED: 3}


def stronger(a: Channel, b: Channel) -> Channel:
    return a if a.level >= b.level else b


class ChannelTargets(BaseModel):
    """Shares of declarations sent to each control channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    red: float = Field(default=0.02, ge=0, le=1)
    yellow: float = Field(default=0.05, ge=0, le=1)
    blue: float = Field(default=0.03, ge=0, le=1)

    @model_validator(mode="after")
    def _within_one(self) -> ChannelTargets:
        if self.budget > 1.0:
            raise ValueError("red + yellow + blue must not exceed 1")
        return self

    @property
    def budget(self) -> float:
        return self.red + self.yellow + self.blue


class ChannelPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    random_share: float = Field(default=0.10, ge=0.10, le=1.0)
    default: ChannelTargets = Field(default_factory=ChannelTargets)
    offices: dict[str, ChannelTargets] = Field(default_factory=dict)

    def targets(self, office: str) -> ChannelTargets:
        return self.offices.get(office, self.default)


class Basis(StrEnum):
    MODEL = "model"  # the score ranks the declaration inside a control target
    RANDOM = "random"  # drawn for exploration
    RULE = "rule"  # a rule hit raised the channel
    NONE = "none"  # nothing selected it: green


@dataclass(frozen=True, slots=True)
class Decision:
    channel: Channel
    basis: Basis
    random: bool
    targets: ChannelTargets
    rule_hits: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def requires_confirmation(self) -> bool:
        return self.channel is Channel.RED

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel.value,
            "basis": self.basis.value,
            "random": self.random,
            "requires_confirmation": self.requires_confirmation,
            "targets": self.targets.model_dump(),
            "notes": list(self.notes),
        }


def _split(targets: ChannelTargets, position: float) -> Channel:
    """Channel at `position` in [0, 1) of the control budget, red first."""
    point = position * targets.budget
    if point < targets.red:
        return Channel.RED
    if point < targets.red + targets.yellow:
        return Channel.YELLOW
    return Channel.BLUE


def decide(
    policy: ChannelPolicy,
    office: str,
    top_share: float | None,
    rule_hits: int,
    draw: float,
    position: float,
) -> Decision:
    """`top_share`: share of reference lines scoring at least as high (None: no model yet).
    `draw`, `position`: independent uniform numbers in [0, 1)."""
    targets = policy.targets(office)
    notes: list[str] = []
    # Without a model the whole budget is random, so a fresh install still controls (and learns).
    random_share = policy.random_share if top_share is not None else 1.0
    channel, basis, random_pick = Channel.GREEN, Basis.NONE, False
    if targets.budget > 0 and draw < targets.budget * random_share:
        channel, basis, random_pick = _split(targets, position), Basis.RANDOM, True
        notes.append(f"drawn at random for exploration ({random_share:.0%} of the control budget)")
    elif top_share is not None:
        model_share = 1.0 - random_share
        if top_share <= targets.red * model_share:
            channel = Channel.RED
        elif top_share <= (targets.red + targets.yellow) * model_share:
            channel = Channel.YELLOW
        elif top_share <= targets.budget * model_share:
            channel = Channel.BLUE
        if channel is not Channel.GREEN:
            basis = Basis.MODEL
            notes.append(f"score in the riskiest {top_share:.2%} of reference declarations")
    if rule_hits and channel.level < Channel.YELLOW.level:
        channel, basis = Channel.YELLOW, Basis.RULE
        notes.append(f"{rule_hits} rule hit(s) force at least a documentary control")
    return Decision(channel, basis, random_pick, targets, rule_hits, notes)
