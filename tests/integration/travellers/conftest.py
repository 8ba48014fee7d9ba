"""The wired services (real envelope encryption, ledger and audit) over the test database."""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from clearguard.access.principal import Principal
from clearguard.access.roles import Role
from clearguard.config import Settings
from clearguard.crypto import init_keys
from clearguard.travellers import TravellerInput, parse_input
from clearguard.wiring import Services, build_services

OFFICE, OTHER_OFFICE = "GB000060", "GB000085"
OFFICER = Principal(user_id=1, username="officer-a", role=Role.OFFICER, office=OFFICE)
OTHER_OFFICER = Principal(user_id=2, username="officer-b", role=Role.OFFICER, office=OTHER_OFFICE)
TRADER = Principal(user_id=3, username="trader", role=Role.TRADER, party_eori="GB123456789000")


def template(seed: int, size: int = 128) -> list[float]:
    """Distinctive values: their text and their doubles are searched for in the stored bytes."""
    rng = random.Random(seed)
    return [rng.uniform(-1.0, 1.0) for _ in range(size)]


def record_data(
    document: str = "X9Q4ZK27T", nationality: str = "FR", *, seed: int = 1, **changes: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "document_number": document,
        "nationality": nationality,
        "template": template(seed),
        "declared_via": "red_channel",
        "goods": ["Marmalade-7731 jars", "3 bottles of Quetsche-4410"],
        "office": OFFICE,
    }
    data.update(changes)
    return data


def record_input(*args: Any, **kwargs: Any) -> TravellerInput:
    return parse_input(record_data(*args, **kwargs))


def needles(data: dict[str, Any]) -> set[bytes]:
    """What must never be stored in clear: the document number (as sent and normalised), with the
    nationality, each template value as text and as a double, and each goods entry."""
    document, nationality = data["document_number"], data["nationality"]
    found = {document.encode(), f"{nationality}{document}".encode(), f"{nationality}:{document}".encode()}
    for value in data["template"]:
        found.add(repr(value).encode())
        found.add(struct.pack("<d", value))
        found.add(struct.pack(">d", value))
    found.update(entry.encode() for entry in data["goods"])
    return found


@pytest.fixture
def services(engine: Engine, database_url: str) -> Iterator[Services]:
    settings = Settings(env="test", database_url=database_url)
    init_keys(settings)
    built = build_services(settings, engine=engine)
    yield built
    built.vault.close()
