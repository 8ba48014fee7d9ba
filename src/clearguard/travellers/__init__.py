"""Traveller clearance records: the biometric category (face templates), sealed per traveller, kept
30 days, never a risk or detection feature and never shared. TravellerService is the one way in."""

from clearguard.travellers.erasure import TravellerErasure, traveller_ref
from clearguard.travellers.errors import OtherOffice, TravellerInputInvalid
from clearguard.travellers.record import TravellerInput, parse_input, template_fingerprint
from clearguard.travellers.service import RETENTION_DAYS, TravellerService
from clearguard.travellers.views import DisposalResult, RecordSummary, RecordView

__all__ = [
    "RETENTION_DAYS",
    "DisposalResult",
    "OtherOffice",
    "RecordSummary",
    "RecordView",
    "TravellerErasure",
    "TravellerInput",
    "TravellerInputInvalid",
    "TravellerService",
    "parse_input",
    "template_fingerprint",
    "traveller_ref",
]
