"""Facts of a healthy instance, for the pure checks' tests to spoil one at a time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from clearguard.posture.facts import (
    Account,
    AlertFacts,
    ConfigFacts,
    DependencyFacts,
    Facts,
    FileFacts,
    KekFacts,
    LedgerFacts,
    RetentionFacts,
    ShareStoreFacts,
    TlsFacts,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
GOOD_SUITE = ("ECDHE-ECDSA-AES256-GCM-SHA384", "TLSv1.2", "kx-ecdhe", True)


def healthy(**changes: Any) -> Facts:
    day = timedelta(days=1)
    facts = Facts(
        now=NOW,
        tls=TlsFacts("TLSv1_2", (GOOD_SUITE,), "server.pem", NOW + 200 * day, "none"),
        accounts=(
            Account("admin-1", "admin", False, True, NOW - 300 * day, NOW - day),
            Account("trader-1", "trader", False, True, NOW - 300 * day, NOW - 2 * day),
        ),
        keys=KekFacts("file", 1, NOW - 10 * day, 5, 0, 365),
        shares=ShareStoreFacts(True, "reachable", 5, 0),
        ledger=LedgerFacts(100, NOW - 50 * day, NOW - timedelta(hours=3), True, 90, 0),
        witnesses=(),
        retention=RetentionFacts({"declarations": 0}, {"declarations": 0}, 0, 7),
        alerts=AlertFacts(0, 0, None),
        training=(),
        files=FileFacts("var", 10, (), ()),
        dependencies=DependencyFacts(NOW, 150, (), cached=False),
        config=ConfigFacts("prod", True, False, "postgresql", False, True, "pkcs11"),
    )
    return replace(facts, **changes)
