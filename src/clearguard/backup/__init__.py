"""Encrypted, authenticated backups: a consistent snapshot (SQLite online backup API, pg_dump for
PostgreSQL) sealed in chunks with AES-256-GCM; restore verifies the whole file before writing anything."""

from clearguard.backup.errors import BackupCorrupt, BackupError
from clearguard.backup.service import BackupInfo, create_backup, restore_backup, verify_backup

__all__ = ["BackupCorrupt", "BackupError", "BackupInfo", "create_backup", "restore_backup", "verify_backup"]
