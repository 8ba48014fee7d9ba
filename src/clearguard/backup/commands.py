"""`clearguard backup create|verify|restore FILE`. The lead mounts `backup_app` in clearguard.cli."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clearguard.cli_support import console, guarded, load_settings

backup_app = typer.Typer(help="Encrypted, authenticated backups.", no_args_is_help=True)


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MiB" if n >= 1_048_576 else f"{n / 1024:.1f} KiB"


@backup_app.command("create")
@guarded
def backup_create(file: Path) -> None:
    """Snapshot the database (consistent, online) into an encrypted file."""
    from clearguard.backup.service import create_backup
    from clearguard.crypto import load_backup_key

    settings = load_settings()
    info = create_backup(settings.database_url, load_backup_key(settings), file)
    console.print(
        f"backup written: {info.path} ({info.kind}, {_size(info.plaintext_bytes)} -> {_size(info.file_bytes)})",
        soft_wrap=True,
    )


@backup_app.command("verify")
@guarded
def backup_verify(file: Path) -> None:
    """Authenticate every byte of a backup without restoring it."""
    from clearguard.backup.service import verify_backup
    from clearguard.crypto import load_backup_key

    info = verify_backup(load_backup_key(load_settings()), file)
    console.print(
        f"backup verifies: {info.kind}, taken {info.created:%Y-%m-%d %H:%M:%S} UTC, {_size(info.plaintext_bytes)}",
        soft_wrap=True,
    )


@backup_app.command("restore")
@guarded
def backup_restore(
    file: Path,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
    accept_loss: Annotated[
        bool,
        typer.Option(
            "--accept-loss",
            help="restore a backup older than the last signed ledger checkpoint: the signed entries it lacks "
            "are recorded as lost by restore and the log continues past the last signed size",
        ),
    ] = False,
) -> None:
    """Verify the whole file, then replace the database's content with it. Parties shredded since the
    backup was taken stay erased. A backup that lacks ledger entries the log has signed is refused
    unless --accept-loss is given (the loss is recorded in the ledger and the audit trail)."""
    import getpass

    from sqlalchemy.orm import Session

    from clearguard.audit import NewAuditEvent
    from clearguard.backup.contents import backup_integer
    from clearguard.backup.errors import RestoreRefused
    from clearguard.backup.service import restore_backup, verify_backup
    from clearguard.cli_support import open_services
    from clearguard.crypto import load_backup_key

    settings = load_settings()
    key = load_backup_key(settings)
    info = verify_backup(key, file)  # before asking: a bad file is refused without a prompt
    with open_services() as services:
        continuity = services.log_continuity()
        table, column = continuity.sequence_location
        plan = continuity.plan(backup_integer(key, file, table, column) or 0)
        lost = plan.lost
        if lost is not None and not accept_loss:
            raise RestoreRefused(
                f"backup holds ledger entries up to {lost[0]} but the log has signed {lost[1]}: restoring it "
                f"would lose {lost[1] - lost[0]} signed entries and hand their indices out again; pass "
                "--accept-loss to restore it anyway (the loss is recorded)"
            )
        if not yes:
            question = f"Replace the database with the backup taken {info.created:%Y-%m-%d %H:%M:%S} UTC?"
            if lost is not None:
                question += f" Ledger entries {lost[0]}..{lost[1] - 1} will be recorded as lost."
            typer.confirm(question, abort=True)
        keys, factory = services.key_service(), services.session_factory
        marked: list[int] = []
        resumed: list[object] = []
        redone: list[object] = []

        def record(session: Session, record_id: str, lost_range: tuple[int, int]) -> None:
            services.audit.record(
                session,
                NewAuditEvent(
                    actor=f"cli:{getpass.getuser()}",
                    role="system",
                    action="backup.restore.accept_loss",
                    record_type="ledger",
                    record_id=record_id,
                    party=None,
                    source="cli",
                    details={
                        "lost_from": lost_range[0],
                        "lost_to": lost_range[1],
                        "backup_created": info.created.isoformat(),
                    },
                ),
            )

        def after_apply() -> None:
            services.engine.dispose()  # connections opened before the restore may hold the old schema
            # Keys shredded since the backup was taken: their shares are gone, say so in the database.
            marked.append(keys.reconcile(factory))
            keys.finish_shreds(factory)
            resumed.append(continuity.resume(plan, backup_created=info.created.isoformat(), record=record))
            # Declarations disposed of since the backup was taken: disposed of again (the register
            # of certificates beside the database names them).
            redone.append(services.retention.reapply_after_restore(actor=f"cli:{getpass.getuser()}"))
            keys.finish_shreds(factory)

        restore_backup(settings.database_url, key, file, after=after_apply)
    console.print(
        f"restored {file}; {marked[0] if marked else 0} data keys shredded since the backup stay erased",
        soft_wrap=True,
    )
    again = redone[0] if redone else None
    if again is not None:
        console.print(
            f"retention: {getattr(again, 'counts', {}).get('declarations', 0)} declarations disposed of since the "
            "backup was taken were disposed of again",
            soft_wrap=True,
        )
    if lost is not None:
        size = getattr(resumed[0], "signed_size", None) if resumed else None
        console.print(
            f"ledger: entries {lost[0]}..{lost[1] - 1} recorded as lost by restore; the log continues at size {size}",
            soft_wrap=True,
        )
