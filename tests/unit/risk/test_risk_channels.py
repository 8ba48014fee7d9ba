from __future__ import annotations

import pytest
from pydantic import ValidationError

from clearguard.risk.channels import Basis, Channel, ChannelPolicy, ChannelTargets, decide, stronger

POLICY = ChannelPolicy(
    random_share=0.10,
    default=ChannelTargets(red=0.02, yellow=0.05, blue=0.03),
    offices={"30": ChannelTargets(red=0.10, yellow=0.0, blue=0.0)},
)
NO_DRAW = 0.99  # above every random budget


@pytest.mark.parametrize(
    ("top_share", "channel"),
    [(0.001, Channel.RED), (0.017, Channel.RED), (0.019, Channel.YELLOW), (0.06, Channel.YELLOW),
     (0.07, Channel.BLUE), (0.091, Channel.GREEN), (0.5, Channel.GREEN)],
)  # fmt: skip
def test_model_fills_targets_minus_the_random_share(top_share: float, channel: Channel) -> None:
    # the model gets 90% of each target: red <= 1.8%, yellow <= 6.3%, blue <= 9%
    decision = decide(POLICY, "10", top_share, 0, NO_DRAW, 0.0)
    assert decision.channel is channel
    assert decision.basis is (Basis.NONE if channel is Channel.GREEN else Basis.MODEL)


def test_office_targets_override_the_default() -> None:
    assert decide(POLICY, "30", 0.05, 0, NO_DRAW, 0.0).channel is Channel.RED
    assert decide(POLICY, "30", 0.095, 0, NO_DRAW, 0.0).channel is Channel.GREEN


def test_random_share_of_the_budget_is_drawn_uniformly() -> None:
    # budget 10%, random 10% of it: a draw below 1% selects, whatever the score
    decision = decide(POLICY, "10", 0.9, 0, 0.005, 0.0)
    assert decision.random and decision.basis is Basis.RANDOM and decision.channel is Channel.RED
    assert decide(POLICY, "10", 0.9, 0, 0.005, 0.5).channel is Channel.YELLOW
    assert decide(POLICY, "10", 0.9, 0, 0.005, 0.9).channel is Channel.BLUE
    assert decide(POLICY, "10", 0.9, 0, 0.011, 0.0).channel is Channel.GREEN


def test_without_a_model_the_whole_budget_is_random() -> None:
    assert decide(POLICY, "10", None, 0, 0.09, 0.0).channel is Channel.RED
    assert decide(POLICY, "10", None, 0, 0.11, 0.0).channel is Channel.GREEN


def test_rule_hit_forces_at_least_yellow_and_never_lowers() -> None:
    green = decide(POLICY, "10", 0.5, 1, NO_DRAW, 0.0)
    assert green.channel is Channel.YELLOW and green.basis is Basis.RULE
    blue = decide(POLICY, "10", 0.08, 2, NO_DRAW, 0.0)
    assert blue.channel is Channel.YELLOW
    red = decide(POLICY, "10", 0.001, 1, NO_DRAW, 0.0)
    assert red.channel is Channel.RED and red.requires_confirmation


def test_random_share_below_ten_percent_and_over_budget_are_refused() -> None:
    with pytest.raises(ValidationError):
        ChannelPolicy(random_share=0.05)
    with pytest.raises(ValidationError):
        ChannelTargets(red=0.6, yellow=0.5, blue=0.0)


def test_channel_order() -> None:
    assert stronger(Channel.BLUE, Channel.YELLOW) is Channel.YELLOW
    assert stronger(Channel.RED, Channel.GREEN) is Channel.RED
