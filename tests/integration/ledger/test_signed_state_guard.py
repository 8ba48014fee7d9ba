"""Integration never signs a size twice with two roots, nor leaves the last signed root behind, when
the database under it was rolled back or replaced (the signed-state file is outside it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from clearguard.ledger import store
from clearguard.ledger.note import Ed25519Signer
from clearguard.ledger.service import LedgerService
from clearguard.ledger.signed_state import LogRolledBack, SignedState
from clearguard.tables import metadata


def test_rolled_back_database_cannot_sign_again(
    signer: Ed25519Signer, engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    state = SignedState(tmp_path / "keys" / "ledger-signed-state.json")
    ledger = LedgerService(signer, entry_check=None, signed_state=state)
    with session_factory() as session, session.begin():
        ledger.append_many(session, [b"a%d" % i for i in range(5)])
    signed = ledger.integrate_all(session_factory)
    assert signed is not None and state.current().size == 5

    # The database loses everything (a restore of an empty backup, say): same key, same state file.
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with session_factory() as session, session.begin(), pytest.raises(LogRolledBack):
        ledger.append(session, b"other")  # index 0 was signed already
    with session_factory() as session, session.begin():
        store.append_entries(session, [b"b%d" % i for i in range(3)])  # behind the service's back
    with pytest.raises(LogRolledBack, match="signed size 5"):
        ledger.integrate_all(session_factory)  # 3 < 5: never re-sign a smaller size
    with session_factory() as session, session.begin():
        store.append_entries(session, [b"b%d" % i for i in range(3, 8)])
    with pytest.raises(LogRolledBack, match="does not extend"):
        ledger.integrate_all(session_factory)  # 8 > 5, but its tree at 5 has another root
    assert state.current().size == 5
    with session_factory() as session:
        assert store.latest_checkpoint(session) is None
