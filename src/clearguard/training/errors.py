"""Training's errors, each with a stable problem type and a CLI exit code."""

from __future__ import annotations

from clearguard.errors import Forbidden, InputError


class TrainingInputInvalid(InputError):
    """A completion that breaks a rule (unknown course, dates out of order): names the field, stores nothing."""

    slug = "training-input-invalid"
    title = "Training record fails validation"
    status = 422
    exit_code = 2


class TrainingRequired(Forbidden):
    """A privileged account without current training in a required course: every privileged action
    is refused until the training is recorded (signing in and its own second factors stay open)."""

    slug = "training-required"
    title = "Training required"
