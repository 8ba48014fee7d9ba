"""FastAPI factory: mounts each capability's routes and the middleware; nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from clearguard import __version__
from clearguard.access.roles import Perm
from clearguard.api.install import install_api
from clearguard.api.security import PermissionRoute, require
from clearguard.config import Settings, get_settings
from clearguard.declarations import draft_routes
from clearguard.declarations import routes as declaration_routes
from clearguard.declarations.gate import DeclarationGate
from clearguard.declarations.group_commit import GroupCommitter
from clearguard.detection import routes as detection_routes
from clearguard.duties import DutyLock
from clearguard.identity import routes as identity_routes
from clearguard.ledger import routes as ledger_routes
from clearguard.ledger.service import BatchIntegrator
from clearguard.ledger.witness_service import WitnessSubmitter
from clearguard.portal import install_portal
from clearguard.posture import DailyAudit
from clearguard.privacy import routes as privacy_routes
from clearguard.retention import routes as retention_routes
from clearguard.runtime import private_files, tune_gc
from clearguard.sharing import routes as sharing_routes
from clearguard.training import routes as training_routes
from clearguard.travellers import routes as traveller_routes
from clearguard.wiring import Services, build_services, build_witness


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    settings = settings or get_settings()
    services = services or build_services(settings)
    witness = services.witness or build_witness(settings)
    # Each new checkpoint goes to the partners' witnesses from a thread of its own (never lodging's).
    submitter = (
        services.witness.submitter(services.session_factory, poll_s=settings.ledger_witness_poll_s)
        if services.witness
        else None
    )
    # Of several workers (`serve --workers N`), the holder of this lock signs the ledger and submits
    # its checkpoints to the witnesses; the others retry taking it, to take over if the holder dies.
    signer_duty = DutyLock(services.engine, "ledger-signer", var_dir=settings.var_dir)
    integrator = BatchIntegrator(
        services.ledger,
        services.session_factory,
        settings.ledger_batch_interval_ms,
        on_checkpoint=submitter.notify if submitter else None,
        duty=signer_duty,
        duty_retry_s=settings.duty_retry_s,
        on_duty=_run_while_held(submitter),
    )
    lodger = GroupCommitter(services.declarations)
    # The daily security self-audit, in one worker at a time (its own duty lock).
    self_audit = (
        DailyAudit(
            services.posture,
            DutyLock(services.engine, "self-audit", var_dir=settings.var_dir),
            interval=timedelta(hours=settings.posture_interval_hours),
        )
        if services.posture is not None and settings.posture_schedule
        else None
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Entries sequenced by requests are integrated and signed in batches, off the request path;
        # the witness submitter starts when this worker takes the signer's duty.
        integrator.start()
        if self_audit is not None:
            self_audit.start()
        try:
            yield
        finally:
            if self_audit is not None:
                self_audit.stop()
            lodger.stop()
            integrator.stop()
            if submitter is not None:
                submitter.stop()

    app = FastAPI(title="ClearGuard API", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan)
    app.router.route_class = PermissionRoute
    app.state.services = services
    app.state.ledger = services.ledger
    app.state.witness = witness
    app.state.lodger = lodger
    app.state.integrator = integrator
    app.state.self_audit = self_audit
    app.state.gate = DeclarationGate(
        services.declarations,
        party_key=services.declarations.party_key,
        factory=services.session_factory,
        audit=services.audit,
    )
    install_api(
        app, settings=settings, identity=services.identity, detection=services.detection, training=services.training
    )

    @app.get("/health", tags=["health"], dependencies=[require(Perm.PUBLIC)])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    # Routes are matched in order, one by one: the busiest first (lodging and reading declarations),
    # the login steps (rare, and slow anyway) last. No two of these routers share a path prefix.
    app.include_router(declaration_routes.router)
    app.include_router(ledger_routes.router)
    app.include_router(privacy_routes.router)
    app.include_router(traveller_routes.router)
    app.include_router(identity_routes.router)
    app.include_router(retention_routes.router)
    app.include_router(sharing_routes.router)
    app.include_router(detection_routes.router)
    app.include_router(training_routes.router)
    app.include_router(draft_routes.router)

    # The portal's pages at / and /static/ (not in the OpenAPI description): after the API's routes.
    install_portal(app, services=services, settings=settings)
    _describe_declaration_body(app)
    return app


def worker_app() -> FastAPI:
    """The application of one worker of `clearguard serve --workers N` (uvicorn's factory), from the
    same environment as every other worker, with the process settings the CLI gives a single server."""
    private_files()
    tune_gc()
    return create_app()


def _run_while_held(submitter: WitnessSubmitter | None) -> Callable[[bool], None] | None:
    if submitter is None:
        return None

    def changed(held: bool) -> None:
        if held:
            submitter.start()
        else:
            submitter.stop()

    return changed


def _describe_declaration_body(app: FastAPI) -> None:
    """Declaration bodies are parsed from raw bytes; publish their schema in the OpenAPI anyway."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        body = declaration_routes.declaration_schema()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(body.pop("$defs", {}))
        components["DeclarationDocument"] = body
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
