"""When the log was last verified in full, and with what result: a small file beside the database
(`<var_dir>/ledger/last-verify.json`, mode 0600) written by `ledger verify` and by the server's daily
self-audit, read by the self-audit's ledger-verification-age check. A file, not a table, so that a
database restored from an old backup cannot make an old verification look recent."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clearguard.ledger.verification import VerifyReport


@dataclass(frozen=True, slots=True)
class LastVerification:
    at: datetime
    ok: bool
    size: int
    checkpoints: int
    problems: int


class VerificationLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, report: VerifyReport, at: datetime | None = None) -> LastVerification:
        last = LastVerification(
            at or datetime.now(UTC), report.ok, report.size, report.checkpoints, len(report.problems)
        )
        body = {
            "at": last.at.isoformat(),
            "ok": last.ok,
            "size": last.size,
            "checkpoints": last.checkpoints,
            "problems": last.problems,
        }
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            json.dump(body, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        return last

    def last(self) -> LastVerification | None:
        """The last recorded verification; None if none was recorded or the file is unreadable (the
        self-audit then reports the log as never verified, which is what it must assume)."""
        try:
            body = json.loads(self.path.read_text())
            at = datetime.fromisoformat(body["at"])
            return LastVerification(
                at if at.tzinfo else at.replace(tzinfo=UTC),
                bool(body["ok"]),
                int(body["size"]),
                int(body["checkpoints"]),
                int(body["problems"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
