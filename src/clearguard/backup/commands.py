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
    from clearguard.crypto.setup import load_backup_key

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
    from clearguard.crypto.setup import load_backup_key

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
) -> None:
    """Verify the whole file, then replace the database's content with it. Parties shredded since the
    backup was taken stay erased."""
    from clearguard import db
    from clearguard.backup.service import restore_backup, verify_backup
    from clearguard.crypto.setup import build_crypto_service, load_backup_key

    settings = load_settings()
    key = load_backup_key(settings)
    info = verify_backup(key, file)  # before asking: a bad file is refused without a prompt
    if not yes:
        typer.confirm(f"Replace the database with the backup taken {info.created:%Y-%m-%d %H:%M:%S} UTC?", abort=True)
    service = build_crypto_service(settings)
    engine = db.make_engine(settings.database_url)
    try:
        factory = db.make_session_factory(engine)
        marked: list[int] = []

        def settle_keys() -> None:
            # Keys shredded since the backup was taken: their shares are gone, say so in the database.
            marked.append(service.reconcile(factory))
            service.finish_shreds(factory)

        restore_backup(settings.database_url, key, file, after=settle_keys)
    finally:
        engine.dispose()
        service.close()
    console.print(
        f"restored {file}; {marked[0] if marked else 0} data keys shredded since the backup stay erased",
        soft_wrap=True,
    )
