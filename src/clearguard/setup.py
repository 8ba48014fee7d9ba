"""`clearguard init`: var/, the database schema, keys, TLS certificates, demo accounts and data.

Safe to run again: what exists is kept (keys are never replaced, accounts never reset).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources

from clearguard import db, migrate
from clearguard.config import Settings
from clearguard.crypto.setup import init_keys
from clearguard.crypto.tls import init_tls
from clearguard.declarations.results import Actor
from clearguard.errors import ClearGuardError
from clearguard.identity import create_demo_accounts, login_hint
from clearguard.identity.demo import DEMO_ACCOUNTS
from clearguard.sharing.keys import init_sharing_keys
from clearguard.wiring import Services, build_services

SYSTEM = Actor(name="system:init", role="system", source="init")


def initialise(settings: Settings, *, demo: bool = True) -> Iterator[str]:
    # Everything under var/ is the operator's alone (databases, keys, models, tiles, backups).
    settings.var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(settings.var_dir, 0o700)
    for line in init_keys(settings):
        yield f"key: {line}"
    for line in init_tls(settings.keys_dir):
        yield f"tls: {line}"
    for line in init_sharing_keys(settings):  # after the CA: it issues the mTLS client certificate
        yield f"key: {line}"
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
        yield from _demo_declarations(services)
        with services.session_factory() as session, session.begin():
            created = create_demo_accounts(
                session,
                settings=settings,
                passwords=services.identity.passwords,
                totp_secrets=services.identity.totp_secrets,
            )
        if created:
            yield "demo accounts (shown once; every login needs the TOTP code: add the otpauth URI to an app):"
            for username, role, password, secret in created:
                yield "  " + login_hint(username, role, password, secret)
        else:
            yield "demo accounts already exist (reset one with `clearguard users reset-mfa`)"
        yield from _demo_training(services)
    finally:
        services.close()


def _demo_declarations(services: Services) -> Iterator[str]:
    for name in ("h1-import.json", "h7-low-value.json"):
        doc = json.loads(resources.files("clearguard.declarations.demo").joinpath(name).read_text())
        try:
            result = services.declarations.lodge(doc, SYSTEM)
        except ClearGuardError as exc:
            yield f"demo declaration {name} not lodged: {exc}"
            continue
        state = "lodged" if result.created else "already there"
        yield f"demo declaration {name}: MRN {result.mrn} ({result.status}, {state})"


def _demo_training(services: Services) -> Iterator[str]:
    """Data-protection training for the privileged demo accounts that lack it, so demo logins can act
    (the gate refuses privileged actions without it). Real staff get theirs by `training record`."""
    if services.training is None:
        return
    demo = {name for name, *_ in DEMO_ACCOUNTS}
    now = datetime.now(UTC)
    for gap in services.training.privileged_gaps(now):
        if gap.username not in demo or gap.status == "expiring":
            continue
        services.training.record(
            gap.username, gap.course, now.date(), now.date() + timedelta(days=365),
            certificate="DEMO", by=SYSTEM.name, role=SYSTEM.role, source=SYSTEM.source, now=now,
        )  # fmt: skip
        yield f"demo training: {gap.username} {gap.course} recorded (expires in 365 days)"
