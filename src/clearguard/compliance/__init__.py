"""Automated compliance: rule engine over versioned rule packs, and the reference data it checks against."""

from clearguard.compliance.findings import Finding, Severity, has_errors
from clearguard.compliance.reference import iso6346_check_digit, reference_data
from clearguard.compliance.service import ComplianceService

__all__ = ["ComplianceService", "Finding", "Severity", "has_errors", "iso6346_check_digit", "reference_data"]
