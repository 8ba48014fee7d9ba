"""Backup errors: one line each, never key material."""

from __future__ import annotations

from clearguard.errors import ClearGuardError


class BackupError(ClearGuardError):
    """The backup cannot be made or applied (tool missing, database unreachable, file exists...)."""

    slug = "backup-error"
    title = "Backup failed"
    status = 500
    exit_code = 1


class BackupCorrupt(BackupError):
    """The file is not a backup, was made with another key, or fails authentication somewhere: nothing
    was restored."""

    slug = "backup-corrupt"
    title = "Backup does not verify"
    status = 422
    exit_code = 2


class RestoreRefused(BackupError):
    """The restore would lose what must not be lost unasked (ledger entries the log has signed):
    nothing was restored."""

    slug = "restore-refused"
    title = "Restore refused"
    status = 409
    exit_code = 2
