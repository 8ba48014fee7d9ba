"""The generaliser: declaration lines -> a k-anonymous, distinct-l-diverse table. Pure (no I/O).

Model. Each quasi-identifier has a generalisation hierarchy (levels, finest first):

    hs_code            HS subheading (6 digits) -> heading (4) -> chapter (2) -> *
    date               day -> month -> quarter -> year -> *
    statistical_value  bands of width w -> 2w -> 4w -> 8w -> *   (never exact: the value is confidential)
    net_mass           exact -> bands of width w -> 2w -> 4w -> 8w -> *
    office             office -> country -> continent -> *
    origin_country,
    dispatch_country   country -> continent -> *

Bands start at 0 and double in width from one level to the next, so each band of a level is the union
of two of the level below (the hierarchy nests). Every band level is top-coded at the same threshold
T = 16w: values from T up share one band, because trade values are heavy-tailed and a handful of
large consignments would otherwise each sit in a band of their own. w is the smallest 1-2-5 number
for which T covers nine lines in ten (the 90th percentile); the report states the bands. A missing
value (an H7 line has no net mass or country of dispatch; a value sealed under a shredded key reads
as erased) is `unknown` on every level but the top.

Search: full-domain generalisation over the lattice of level vectors, as Incognito and OLA do: one
level per attribute for the whole table, so every released row of a column has the same meaning.
A node satisfies when, after suppressing the rows of every class smaller than k or with fewer than l
distinct sensitive values, at most `max_suppression` of the rows are suppressed. That predicate is
monotone (generalising merges classes, and a merged class is at least as large and as diverse as
each part), so the nodes that satisfy form an upward-closed set and the search needs only its
minimal elements: nodes are visited in order of height; one above a known minimal node is skipped;
one below a known failing node is skipped; a node evaluated and failing is first pushed up, attribute
by attribute with a binary search along each chain, to a maximal failing node, whose whole downset is
then skipped. A node evaluated and satisfying whose predecessors were all visited is minimal. Among
the minimal nodes the one with the least information loss is chosen (ties: fewer suppressed rows,
then the lower level vector), so the result is deterministic.

Information loss is Sweeney's precision metric with suppression: each released cell costs
level / top level of its attribute, each suppressed row costs 1 per attribute, averaged over all
cells (0 = nothing generalised, 1 = everything suppressed). The discernibility metric (sum of
squared class sizes, plus rows in x suppressed rows) is reported beside it.

Released rows are sorted by their values: the order of the input (time of lodging) is not released.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

import numpy as np
import numpy.typing as npt

from clearguard.sharing.regions import continent_of

STAR = "*"
UNKNOWN = "unknown"
DEFAULT_MAX_SUPPRESSION = 0.05
_TOP_CODE_BANDS = 16
_BAND_LEVELS = 4

IntArray = npt.NDArray[np.int64]


class AnonymityError(ValueError):
    """Input the generaliser cannot work with, or a k/l that cannot be met; `field` names the cause."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------------------------------- hierarchies


@dataclass(frozen=True)
class Hierarchy:
    """Levels of one attribute, finest first; `lowest` is the finest level that may be released."""

    kind: str
    meanings: tuple[str, ...]
    lowest: int = 0

    @property
    def top(self) -> int:
        return len(self.meanings) - 1

    def label(self, value: Any, level: int) -> str:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind}


@dataclass(frozen=True)
class HsHierarchy(Hierarchy):
    kind: str = "hs"
    meanings: tuple[str, ...] = ("HS subheading (6 digits)", "HS heading (4 digits)", "HS chapter (2 digits)", "*")

    def label(self, value: Any, level: int) -> str:
        if level >= self.top:
            return STAR
        if value is None or str(value).strip() == "":
            return UNKNOWN
        digits = str(value).strip()
        if not digits.isdigit():
            raise AnonymityError(f"hs_code: {digits[:20]!r} is not a commodity code (digits)", field="hs_code")
        return digits[: (6, 4, 2)[level]]


@dataclass(frozen=True)
class DateHierarchy(Hierarchy):
    kind: str = "date"
    meanings: tuple[str, ...] = ("day", "month", "quarter", "year", "*")

    def label(self, value: Any, level: int) -> str:
        if level >= self.top:
            return STAR
        if value is None:
            return UNKNOWN
        day = _as_date(value)
        if level == 0:
            return day.isoformat()
        if level == 1:
            return f"{day.year:04d}-{day.month:02d}"
        if level == 2:
            return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
        return f"{day.year:04d}"


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise AnonymityError(f"date: {str(value)[:20]!r} is not a date (YYYY-MM-DD)", field="date") from None


@dataclass(frozen=True)
class PlaceHierarchy(Hierarchy):
    """An office (its first two letters are its country) or a country, up to its continent."""

    kind: str = "place"
    meanings: tuple[str, ...] = ("office", "country", "continent", "*")
    offices: bool = True

    def label(self, value: Any, level: int) -> str:
        if level >= self.top:
            return STAR
        if value is None or str(value).strip() == "":
            return UNKNOWN
        text = str(value).strip().upper()
        step = level if self.offices else level + 1  # a country starts one step up
        if step == 0:
            return text
        if step == 1:
            return text[:2]
        return continent_of(text[:2])


def country_hierarchy() -> PlaceHierarchy:
    return PlaceHierarchy(kind="country", meanings=("country", "continent", "*"), offices=False)


@dataclass(frozen=True)
class BandHierarchy(Hierarchy):
    """Exact (unless `lowest` forbids it) -> bands of width w, 2w, 4w, 8w (top-coded at 16w) -> *."""

    kind: str = "band"
    meanings: tuple[str, ...] = ()
    width: Decimal = Decimal(1)

    def band(self, level: int) -> Decimal:
        return self.width * Decimal(2 ** (level - 1))

    @property
    def threshold(self) -> Decimal:
        return self.width * _TOP_CODE_BANDS

    def label(self, value: Any, level: int) -> str:
        if level >= self.top:
            return STAR
        number = _as_decimal(value, self.kind)
        if number is None:
            return UNKNOWN
        if level == 0:
            return _fmt(number)
        if number >= self.threshold:
            return f"[{_fmt(self.threshold)},inf)"
        width = self.band(level)
        start = (number / width).to_integral_value(rounding=ROUND_FLOOR) * width
        return f"[{_fmt(start)},{_fmt(start + width)})"

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "band",
            "base_width": _fmt(self.width),
            "top_coded_from": _fmt(self.threshold),
            "band_widths": {str(level): _fmt(self.band(level)) for level in range(1, self.top)},
        }


def _fmt(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text if text != "-0" else "0"


def _as_decimal(value: Any, name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and not math.isfinite(value):
        raise AnonymityError(f"{name}: {value!r} is not a finite number", field=name)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise AnonymityError(f"{name}: {str(value)[:20]!r} is not a number", field=name) from None
    if not number.is_finite():
        raise AnonymityError(f"{name}: {str(value)[:20]!r} is not a finite number", field=name)
    return number


def nice_width(values: Iterable[Decimal]) -> Decimal:
    """The smallest 1-2-5 x 10^e width whose top-coding threshold (16 w) reaches the 90th percentile."""
    ordered = sorted(v for v in values if v > 0)
    if not ordered:
        return Decimal(1)
    p90 = ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]
    target = p90 / _TOP_CODE_BANDS
    exponent = math.floor(math.log10(float(target))) - 1
    while True:
        for mantissa in (1, 2, 5):
            width = Decimal(mantissa).scaleb(exponent)
            if width >= target:
                return width
        exponent += 1


def band_hierarchy(name: str, values: Iterable[Any], *, exact_allowed: bool) -> BandHierarchy:
    numbers = [n for v in values if (n := _as_decimal(v, name)) is not None]
    meanings = (
        "exact",
        *(f"band of width {i}w" if i > 1 else "band of width w" for i in (1, 2, 4, 8)[:_BAND_LEVELS]),
        "*",
    )
    return BandHierarchy(kind=name, meanings=meanings, lowest=0 if exact_allowed else 1, width=nice_width(numbers))


# ---------------------------------------------------------------------------------------- attributes

# The quasi-identifiers of a declaration line, and the kind of each. statistical_value is confidential:
# only its bands may leave.
QUASI_IDENTIFIERS: tuple[str, ...] = (
    "hs_code",
    "date",
    "statistical_value",
    "net_mass",
    "office",
    "origin_country",
    "dispatch_country",
)
CONFIDENTIAL_BANDED: frozenset[str] = frozenset({"statistical_value"})


def hierarchies_for(lines: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, Hierarchy]:
    made: dict[str, Hierarchy] = {}
    for name in names:
        if name == "hs_code":
            made[name] = HsHierarchy()
        elif name == "date":
            made[name] = DateHierarchy()
        elif name in ("statistical_value", "net_mass"):
            made[name] = band_hierarchy(
                name, (line.get(name) for line in lines), exact_allowed=name not in CONFIDENTIAL_BANDED
            )
        elif name == "office":
            made[name] = PlaceHierarchy()
        elif name in ("origin_country", "dispatch_country"):
            made[name] = country_hierarchy()
        else:
            raise AnonymityError(f"quasi_identifiers: {name!r} has no generalisation hierarchy", field="quasi")
    return made


# ---------------------------------------------------------------------------------------- the search


@dataclass(frozen=True)
class Evaluation:
    node: tuple[int, ...]
    satisfies: bool
    suppressed: int
    classes: int
    discernibility: int


@dataclass(frozen=True)
class Anonymised:
    """The generaliser's output: rows to release (sorted), the chosen node and what it cost."""

    columns: tuple[str, ...]
    rows: list[dict[str, str]]
    quasi_identifiers: tuple[str, ...]
    sensitive: str
    k: int
    l: int  # noqa: E741 (the l of l-diversity)
    hierarchies: dict[str, Hierarchy]
    node: tuple[int, ...]
    rows_in: int
    rows_without_sensitive: int
    suppressed: int
    max_suppressed: int
    information_loss: float
    discernibility: int
    nodes_evaluated: int
    lattice_size: int
    minimal_nodes: int
    levels: dict[str, dict[str, Any]] = field(default_factory=dict)


class _Table:
    """Each quasi-identifier column encoded once per level as dense integer codes."""

    def __init__(
        self,
        lines: Sequence[Mapping[str, Any]],
        names: Sequence[str],
        hierarchies: Mapping[str, Hierarchy],
        sensitive: Sequence[str],
    ) -> None:
        self.names = tuple(names)
        self.n = len(lines)
        self.codes: list[list[IntArray]] = []
        self.cards: list[list[int]] = []
        self.labels: list[list[list[str]]] = []
        for name in names:
            hierarchy = hierarchies[name]
            raw = [line.get(name) for line in lines]
            distinct: dict[Any, int] = {}
            raw_index = np.fromiter((distinct.setdefault(_hashable(v), len(distinct)) for v in raw), np.int64, self.n)
            values = list(distinct)
            per_level: list[IntArray] = []
            cards: list[int] = []
            labels: list[list[str]] = []
            for level in range(hierarchy.top + 1):
                mapped = [hierarchy.label(v, level) for v in values]
                uniq = sorted(set(mapped))
                position = {label: i for i, label in enumerate(uniq)}
                lookup = np.array([position[m] for m in mapped], dtype=np.int64)
                per_level.append(lookup[raw_index] if self.n else np.zeros(0, np.int64))
                cards.append(len(uniq))
                labels.append(uniq)
            self.codes.append(per_level)
            self.cards.append(cards)
            self.labels.append(labels)
        distinct_s: dict[str, int] = {}
        self.sensitive = np.fromiter((distinct_s.setdefault(s, len(distinct_s)) for s in sensitive), np.int64, self.n)
        self.sensitive_card = max(1, len(distinct_s))

    def classes(self, node: tuple[int, ...]) -> IntArray:
        """Class id of each row under the node's levels."""
        key = np.zeros(self.n, dtype=np.int64)
        bound = 1
        for i, level in enumerate(node):
            card = self.cards[i][level]
            if bound * card >= 2**62:
                _, key = np.unique(key, return_inverse=True)
                key = key.astype(np.int64)
                bound = int(key.max()) + 1 if self.n else 1
            key = key * card + self.codes[i][level]
            bound *= card
        _, inverse = np.unique(key, return_inverse=True)
        return inverse.astype(np.int64).reshape(-1)

    def bad_rows(self, node: tuple[int, ...], k: int, ell: int) -> tuple[npt.NDArray[np.bool_], int, int]:
        """(rows in classes that fail k or l, number of classes, discernibility of the kept classes)."""
        cls = self.classes(node)
        count = int(cls.max()) + 1 if self.n else 0
        sizes = np.bincount(cls, minlength=count)
        pairs = np.unique(cls * self.sensitive_card + self.sensitive)
        diversity = np.bincount(pairs // self.sensitive_card, minlength=count)
        bad_class = (sizes < k) | (diversity < ell)
        kept = sizes[~bad_class]
        return bad_class[cls], count, int((kept.astype(np.int64) ** 2).sum())


def _hashable(value: Any) -> Any:
    return value if value is None or isinstance(value, str | int | float | Decimal | date) else str(value)


def _evaluate(table: _Table, node: tuple[int, ...], k: int, ell: int, limit: int) -> Evaluation:
    bad, count, discernibility = table.bad_rows(node, k, ell)
    suppressed = int(bad.sum())
    kept = table.n - suppressed
    ok = suppressed <= limit and kept >= k
    return Evaluation(node, ok, suppressed, count, discernibility + suppressed * table.n)


def anonymise(
    lines: Sequence[Mapping[str, Any]],
    *,
    k: int,
    l: int,  # noqa: E741 (the l of l-diversity)
    sensitive: str,
    quasi_identifiers: Sequence[str] | None = None,
    max_suppression: float = DEFAULT_MAX_SUPPRESSION,
) -> Anonymised:
    """The least lossy minimal generalisation of `lines` that is k-anonymous and distinct-l-diverse
    on `sensitive` after suppressing at most `max_suppression` of the rows (see the module's doc)."""
    if k < 2:
        raise AnonymityError("k: must be at least 2", field="k")
    if l < 1:
        raise AnonymityError("l: must be at least 1", field="l")
    if l > k:
        raise AnonymityError("l: must not exceed k (a class of k rows holds at most k distinct values)", field="l")
    if not 0 <= max_suppression < 1:
        raise AnonymityError("max_suppression: must be in [0, 1)", field="max_suppression")
    if sensitive in CONFIDENTIAL_BANDED:
        raise AnonymityError(f"sensitive: {sensitive} is confidential and leaves only as bands", field="sensitive")
    names = [q for q in (quasi_identifiers or QUASI_IDENTIFIERS) if q != sensitive]
    if not names:
        raise AnonymityError("quasi_identifiers: none left beside the sensitive attribute", field="quasi")
    usable = [line for line in lines if _present(line.get(sensitive))]
    if not usable:
        raise AnonymityError("lines: no declaration line carries a value of the sensitive attribute", field="lines")
    hierarchies = hierarchies_for(usable, names)
    sens_values = [str(line[sensitive]) for line in usable]
    table = _Table(usable, names, hierarchies, sens_values)
    limit = math.floor(max_suppression * table.n)
    if table.n < k:
        raise AnonymityError(f"k: only {table.n} line(s), fewer than k = {k}", field="k")
    if len(set(sens_values)) < l:
        raise AnonymityError(
            f"l: the sensitive attribute has only {len(set(sens_values))} distinct value(s), fewer than l = {l}",
            field="l",
        )
    ranges = [range(hierarchies[n].lowest, hierarchies[n].top + 1) for n in names]
    evaluations, minimal = _minimal_nodes(table, ranges, k, l, limit)
    if not minimal:  # the top node is one class of every row: it satisfies once the checks above pass
        raise AnonymityError(f"k: no generalisation meets k = {k} and l = {l}", field="k")
    tops = [hierarchies[n].top for n in names]
    width = len(names)

    def loss(ev: Evaluation) -> float:
        generalised = sum(level / top if top else 0.0 for level, top in zip(ev.node, tops, strict=True))
        return ((table.n - ev.suppressed) * generalised + ev.suppressed * width) / (table.n * width)

    best = min(minimal, key=lambda ev: (round(loss(ev), 12), ev.suppressed, ev.node))
    bad, _count, _d = table.bad_rows(best.node, k, l)
    columns = (*names, sensitive)
    rows: list[dict[str, str]] = []
    for index in np.flatnonzero(~bad).tolist():
        row = {
            name: table.labels[i][best.node[i]][int(table.codes[i][best.node[i]][index])]
            for i, name in enumerate(names)
        }
        row[sensitive] = sens_values[index]
        rows.append(row)
    rows.sort(key=lambda r: tuple(r[c] for c in columns))
    levels = {
        name: {
            "level": best.node[i],
            "meaning": hierarchies[name].meanings[best.node[i]],
            "levels": list(hierarchies[name].meanings),
            "lowest_releasable": hierarchies[name].lowest,
            **hierarchies[name].describe(),
        }
        for i, name in enumerate(names)
    }
    return Anonymised(
        columns=columns,
        rows=rows,
        quasi_identifiers=tuple(names),
        sensitive=sensitive,
        k=k,
        l=l,
        hierarchies=hierarchies,
        node=best.node,
        rows_in=len(lines),
        rows_without_sensitive=len(lines) - len(usable),
        suppressed=best.suppressed,
        max_suppressed=limit,
        information_loss=round(loss(best), 6),
        discernibility=best.discernibility,
        nodes_evaluated=len(evaluations),
        lattice_size=math.prod(len(r) for r in ranges),
        minimal_nodes=len(minimal),
        levels=levels,
    )


def _present(value: Any) -> bool:
    return value is not None and str(value) != ""


def _minimal_nodes(
    table: _Table, ranges: Sequence[range], k: int, ell: int, limit: int
) -> tuple[dict[tuple[int, ...], Evaluation], list[Evaluation]]:
    """Every minimal satisfying node of the lattice (see the module's doc), and all evaluations made."""
    grids = np.meshgrid(*[np.arange(r.start, r.stop) for r in ranges], indexing="ij")
    nodes = np.stack([g.reshape(-1) for g in grids], axis=1).astype(np.int64)
    order = np.lexsort([*(nodes[:, i] for i in reversed(range(nodes.shape[1]))), nodes.sum(axis=1)])
    nodes = nodes[order]
    # 0 unknown, 1 above a satisfying node (not minimal), 2 below a failing node (fails).
    status = np.zeros(len(nodes), dtype=np.int8)
    tops = [r.stop - 1 for r in ranges]
    seen: dict[tuple[int, ...], Evaluation] = {}
    minimal: list[Evaluation] = []

    def evaluate(node: tuple[int, ...]) -> Evaluation:
        found = seen.get(node)
        if found is None:
            found = seen[node] = _evaluate(table, node, k, ell, limit)
        return found

    def mark_above(node: tuple[int, ...]) -> None:
        above = np.all(nodes >= np.array(node), axis=1) & np.any(nodes != np.array(node), axis=1)
        status[above & (status == 0)] = 1

    for position in range(len(nodes)):
        if status[position]:
            continue
        node = tuple(int(v) for v in nodes[position])
        result = evaluate(node)
        if result.satisfies:
            minimal.append(result)
            mark_above(node)
            continue
        # Push the failing node up to a maximal failing one: its downset fails too.
        high = list(node)
        for i in range(len(high)):
            lo, hi = high[i], tops[i]
            while lo < hi:
                mid = (lo + hi + 1) // 2
                probe = (*high[:i], mid, *high[i + 1 :])
                probed = evaluate(probe)
                if probed.satisfies:
                    mark_above(probe)
                    hi = mid - 1
                else:
                    lo = mid
            high[i] = lo
        status[np.all(nodes <= np.array(high), axis=1)] = 2
    return seen, minimal
