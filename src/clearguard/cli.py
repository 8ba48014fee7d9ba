"""`clearguard`: the Typer root. Mounts each capability's commands; nothing else lives here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from clearguard.audit.commands import audit_app
from clearguard.backup.commands import backup_app
from clearguard.cli_support import console, guarded, load_settings
from clearguard.crypto.commands import keys_app
from clearguard.declarations.commands import app as declarations_app
from clearguard.detection.commands import detection_app
from clearguard.identity.commands import users_app
from clearguard.ledger.commands import ledger_app
from clearguard.posture.commands import security as posture_security
from clearguard.privacy.commands import privacy_app
from clearguard.retention.commands import retention_app
from clearguard.risk.commands import risk_app
from clearguard.runtime import private_files, tune_gc
from clearguard.sharing.commands import app as sharing_app
from clearguard.training.commands import training_app
from clearguard.travellers.commands import app as travellers_app

app = typer.Typer(
    help="ClearGuard: customs declarations and clearance, built for data security.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(declarations_app, name="declarations")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(backup_app, name="backup")
app.add_typer(ledger_app, name="ledger")
# `audit security`: the security self-audit, beside the auditors' reports.
audit_app.command("security")(posture_security)
app.add_typer(audit_app, name="audit")
app.add_typer(risk_app, name="risk")
app.add_typer(retention_app, name="retention")
app.add_typer(privacy_app, name="privacy")
app.add_typer(travellers_app, name="travellers")
app.add_typer(db_app, name="db")
app.add_typer(sharing_app, name="sharing")
app.add_typer(detection_app, name="detection")
app.add_typer(training_app, name="training")


@db_app.command("upgrade")
@guarded
def db_upgrade(revision: str = "head") -> None:
    """Apply the Alembic migrations."""
    from clearguard import db, migrate

    settings = load_settings()
    engine = db.make_engine(settings.database_url)
    try:
        migrate.upgrade(engine, revision)
        console.print(f"database at {migrate.current(engine)}")
    finally:
        engine.dispose()


@app.command()
@guarded
def init(demo: Annotated[bool, typer.Option(help="load demo declarations")] = True) -> None:
    """Create var/, the database and demo data. Safe to run again."""
    from clearguard.setup import initialise

    for line in initialise(load_settings(), demo=demo):
        console.print(line, soft_wrap=True)


WORKER_PING_S = 60


@app.command()
@guarded
def serve(
    host: str = "127.0.0.1",
    port: int = 8443,
    cert: Annotated[Path | None, typer.Option(help="server certificate chain (PEM); default: var/keys")] = None,
    key: Annotated[Path | None, typer.Option(help="server private key (PEM)")] = None,
    insecure_http: Annotated[
        bool, typer.Option("--insecure-http", help="plain HTTP: only behind a TLS-terminating proxy")
    ] = False,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="API worker processes (several need PostgreSQL; Redis shares limits)")
    ] = 1,
) -> None:
    """Start the API server (uvicorn): HTTPS only (TLS 1.2 minimum) unless --insecure-http."""
    import uvicorn

    from clearguard import db
    from clearguard.api.middleware import access_log_config
    from clearguard.app import create_app
    from clearguard.crypto.tls import uvicorn_ssl_kwargs
    from clearguard.errors import ConfigurationError

    settings = load_settings()
    settings.check_for_production()
    if workers > 1 and db.is_sqlite(settings.database_url):
        raise ConfigurationError(
            f"--workers {workers}: several workers need PostgreSQL (CLEARGUARD_DATABASE_URL=postgresql+psycopg://...);"
            " SQLite serves one process: use --workers 1",
            field="workers",
        )
    tls: dict[str, Any] = {} if insecure_http else uvicorn_ssl_kwargs(settings, cert=cert, key=key)
    scheme = "http" if insecure_http else "https"
    shown = f"{workers} workers" if workers > 1 else "one worker"
    console.print(f"ClearGuard on {scheme}://{host}:{port} ({shown}; health: {scheme}://{host}:{port}/health)")
    application = create_app(settings)
    if not insecure_http:  # partners' inbox: their client certificates, checked in the handshake
        from clearguard.api.peer_certificate import partner_tls_kwargs

        sharing = application.state.services.sharing
        tls |= partner_tls_kwargs(sharing.partner_cas() if sharing else b"", settings.keys_dir, settings)
    log_config = access_log_config()
    if workers > 1:  # each log line names the worker process that wrote it
        for formatter in ("default", "access"):
            log_config["formatters"][formatter]["fmt"] = "[%(process)d] " + log_config["formatters"][formatter]["fmt"]
    common: dict[str, Any] = dict(
        host=host, port=port, log_level="info", proxy_headers=insecure_http, server_header=False,
        log_config=log_config, **tls,
    )  # fmt: skip
    if workers == 1:
        uvicorn.run(application, **common)
        return
    # Each worker process builds its own services from the same environment (the composition root);
    # the one built here served only to check the settings and collect the partners' CAs.
    application.state.services.close()
    # uvicorn replaces a worker that does not answer its supervisor's ping within the timeout; a worker
    # starting (interpreter, imports, services) on a busy machine takes longer than uvicorn's 5 s.
    uvicorn.run(
        "clearguard.app:worker_app", factory=True, workers=workers, timeout_worker_healthcheck=WORKER_PING_S, **common
    )


def main() -> None:
    private_files()
    tune_gc()
    app()
