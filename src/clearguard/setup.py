"""`clearguard init`: var/, the database schema, keys and demo data; safe to run again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources

from clearguard import db, migrate
from clearguard.config import Settings
from clearguard.declarations.service import Actor
from clearguard.errors import ClearGuardError
from clearguard.services import build_services

SYSTEM = Actor(name="system:init", role="system", source="init")


def initialise(settings: Settings, *, demo: bool = True) -> Iterator[str]:
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    settings.keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = db.make_engine(settings.database_url)
    try:
        migrate.upgrade(engine)
        yield f"database ready at {migrate.current(engine)} ({engine.url.render_as_string(hide_password=True)})"
    finally:
        engine.dispose()
    if not demo:
        return
    services = build_services(settings)
    try:
        for name in ("h1-import.json", "h7-low-value.json"):
            doc = json.loads(resources.files("clearguard.declarations.demo").joinpath(name).read_text())
            try:
                result = services.declarations.lodge(doc, SYSTEM)
            except ClearGuardError as exc:
                yield f"demo declaration {name} not lodged: {exc}"
                continue
            state = "lodged" if result.created else "already there"
            yield f"demo declaration {name}: MRN {result.mrn} ({result.status}, {state})"
    finally:
        services.close()
