"""Retention: policies per jurisdiction, legal holds, and disposal by crypto-shredding, proven by a
certificate in the ledger. `RetentionService` is the way in; `Schedule` tells when a record falls due."""

from clearguard.retention.commitments import RetentionCommitments
from clearguard.retention.holds import HeldError, Hold
from clearguard.retention.policy import Policy, PolicyError, PolicySet, load_policies
from clearguard.retention.run import RunReport
from clearguard.retention.schedule import OpenRequests, Schedule
from clearguard.retention.service import RetentionService

__all__ = [
    "HeldError",
    "Hold",
    "OpenRequests",
    "Policy",
    "PolicyError",
    "PolicySet",
    "RetentionCommitments",
    "RetentionService",
    "RunReport",
    "Schedule",
    "load_policies",
]
