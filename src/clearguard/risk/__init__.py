"""Declaration risk engine: risk records, features, LightGBM models, rules, channels and feedback.

The pure cores (kcs parsing, features, training, metrics, rules, channels) do no I/O; `service`
is the one way in for other capabilities, `commands` is the CLI group.
"""
