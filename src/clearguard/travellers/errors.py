"""The travellers' errors, each with a stable problem type and a CLI exit code."""

from __future__ import annotations

from clearguard.errors import Forbidden, InputError


class TravellerInputInvalid(InputError):
    """A traveller record that breaks a rule of the input model: names the field, stores nothing."""

    slug = "traveller-input-invalid"
    title = "Traveller record fails validation"
    status = 422
    exit_code = 2


class OtherOffice(Forbidden):
    """Traveller records are kept by the office that made them: only its own officers record or read them."""

    slug = "traveller-other-office"
    title = "Traveller records are read and written by the officers of their office only"
