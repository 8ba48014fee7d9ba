"""Staff training: the course catalogue, completions with their expiry and certificate, reminders
before expiry, and the gate that refuses privileged roles' privileged actions without current
data-protection training. TrainingService is the one way in."""

from clearguard.training.completions import Completion, TrainingGap, parse_day
from clearguard.training.courses import CATALOGUE, PRIVILEGED_ROLES, REMINDER_DAYS, Course
from clearguard.training.errors import TrainingInputInvalid, TrainingRequired
from clearguard.training.service import Accounts, AuditTrail, TrainingService

__all__ = [
    "CATALOGUE",
    "PRIVILEGED_ROLES",
    "REMINDER_DAYS",
    "Accounts",
    "AuditTrail",
    "Completion",
    "Course",
    "TrainingGap",
    "TrainingInputInvalid",
    "TrainingRequired",
    "TrainingService",
    "parse_day",
]
