"""Audit trail: who did what to which record, when, from where, and why (break-glass); each event
committed with the action it records and entered in the ledger as a salted commitment."""

from clearguard.audit.service import AuditCommitmentSource, AuditEvent, AuditQuery, AuditService, NewAuditEvent

__all__ = ["AuditCommitmentSource", "AuditEvent", "AuditQuery", "AuditService", "NewAuditEvent"]
