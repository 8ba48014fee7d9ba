"""FastAPI factory: mounts each capability's routes and the middleware; nothing else."""

from __future__ import annotations

from fastapi import FastAPI

from clearguard import __version__
from clearguard.config import Settings, get_settings
from clearguard.services import Services, build_services


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    settings = settings or get_settings()
    services = services or build_services(settings)
    app = FastAPI(title="ClearGuard API", version=__version__, docs_url=None, redoc_url=None)
    app.state.services = services

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
