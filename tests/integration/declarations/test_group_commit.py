"""Group commit: concurrent lodgings share transactions, each keeping its own outcome."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clearguard.compliance.service import ComplianceService
from clearguard.declarations.group_commit import GroupCommitter
from clearguard.declarations.plain_vault import PlainVault
from clearguard.declarations.results import Actor, LodgeResult
from clearguard.declarations.samples import generate
from clearguard.declarations.service import DeclarationService
from clearguard.declarations.tables import DeclarationEventRow
from clearguard.errors import ValidationFailed
from tests.helpers import example


def test_concurrent_lodgings_each_get_their_own_outcome(session_factory: sessionmaker[Session]) -> None:
    service = DeclarationService(session_factory, compliance=ComplianceService(), vault=PlainVault())
    committer = GroupCommitter(service, max_batch=8)
    docs: list[dict[str, Any]] = generate(30, seed=9)
    bad = example("h1-import.json")
    bad["gross_mass_kg"] = "1.000"
    docs.insert(7, bad)
    docs.append(docs[3])  # the same declaration again: the first MRN, nothing new
    actors = [Actor(f"user-{n}", "trader", "test") for n in range(len(docs))]

    def lodge(n: int) -> LodgeResult | Exception:
        try:
            return committer.lodge(docs[n], actors[n])
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(lodge, range(len(docs))))
    committer.stop()
    assert isinstance(outcomes[7], ValidationFailed)
    results = [o for o in outcomes if isinstance(o, LodgeResult)]
    assert len(results) == len(docs) - 1
    assert len({r.mrn for r in results}) == len(docs) - 2  # the repeat answers with the first MRN
    assert service.count() == len(docs) - 2
    with session_factory() as session:
        lodged_by = {
            row.actor
            for row in session.execute(
                select(DeclarationEventRow).where(DeclarationEventRow.to_status == "lodged")
            ).scalars()
        }
    assert {
        a.name for n, a in enumerate(actors) if isinstance(outcomes[n], LodgeResult) and outcomes[n].created
    } == lodged_by  # type: ignore[union-attr]


def test_lodgings_awaited_on_an_event_loop_each_get_their_own_outcome(
    session_factory: sessionmaker[Session],
) -> None:
    import asyncio

    service = DeclarationService(session_factory, compliance=ComplianceService(), vault=PlainVault())
    committer = GroupCommitter(service, max_batch=4)
    docs: list[dict[str, Any]] = generate(9, seed=11)
    bad = example("h1-import.json")
    bad["gross_mass_kg"] = "1.000"
    docs.insert(2, bad)

    async def lodge_all() -> list[LodgeResult | BaseException]:
        return await asyncio.gather(
            *(committer.lodge_async(doc, Actor(f"user-{n}", "trader", "test")) for n, doc in enumerate(docs)),
            return_exceptions=True,
        )

    outcomes = asyncio.run(lodge_all())
    committer.stop()
    assert isinstance(outcomes[2], ValidationFailed)
    results = [o for o in outcomes if isinstance(o, LodgeResult)]
    assert len(results) == len(docs) - 1 and all(r.created for r in results)
    assert len({r.mrn for r in results}) == len(results) == service.count()


class _Recorder:
    """A stand-in service that records the size of every batch it is given."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def lodge_group(self, items: list[tuple[dict[str, Any], Actor]]) -> list[LodgeResult]:
        self.sizes.append(len(items))
        return [LodgeResult(f"MRN{n}", "lodged", None, 1, [], True) for n in range(len(items))]


def test_writer_waits_only_for_the_callers_recent_batches_had() -> None:
    """Untimed: whether the writer waits is seen through _gather (the one place it waits), and the
    wait is made long (10 s) so that four callers always make one batch, however busy the machine;
    lodging them never takes that long, because the batch is written as soon as the fourth arrives."""
    import threading
    from typing import cast

    recorder = _Recorder()
    committer = GroupCommitter(cast(DeclarationService, recorder), max_batch=8, max_wait_ms=10_000)
    actor = Actor("user", "trader", "test")
    gathers: list[int] = []
    gather = committer._gather

    def spy(batch: list[Any], expected: int) -> bool:
        gathers.append(expected)
        return gather(batch, expected)

    committer._gather = spy  # type: ignore[method-assign]

    # A lone caller never waits: its batches are of one, and the writer never gathers.
    for _ in range(3):
        committer.lodge({}, actor)
    assert recorder.sizes == [1, 1, 1] and gathers == []
    # Four callers queued together make a batch of four...
    committer._recent.append(4)
    # ...so four arriving one by one are still lodged together: the writer waits for the others.
    threads = [threading.Thread(target=committer.lodge, args=({}, actor)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    committer.stop()
    # One batch of four; the writer gathered for them, unless all four were queued before it looked.
    assert recorder.sizes[3:] == [4] and gathers in ([4], [])
