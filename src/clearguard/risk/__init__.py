"""Declaration risk engine: risk records, features, LightGBM models, rules, channels and feedback.

The pure cores (kcs parsing, features, training, metrics, rules, channels) do no I/O; `service`
is the one way in for other capabilities, `commands` is the CLI group.

Exported here: the types risk exchanges with lodging. The service (clearguard.risk.service) is
imported by the composition root only: it loads LightGBM and NumPy, which a capability that merely
names a risk outcome should not pay for at import.
"""

from clearguard.risk.lodging import ReviewFinding, RiskOutcome

__all__ = ["ReviewFinding", "RiskOutcome"]
