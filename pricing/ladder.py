"""The price ladder of a station and grade: guide, pump, platform, member levels (and Italy's attended).

`write_prices` validates and stores a batch in one transaction, returning an outcome per item:
inserted / updated / confirmed (a re-confirmation of the price in force: only confirmed_at moves) /
unchanged (same price, same effective_from, nothing newer) / rejected with the reason.
`ladder` reads everything in force at any time; `write_guides` stores guide prices the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection, Engine

from geo.errors import StationNotFound
from geo.grades import grade_order
from pricing import repository, windows
from pricing.money import price_per_litre
from pricing.validation import DEFAULT_RULES, Context, Quote, Rules, check, is_stale

ORDER = {"guide": 0, "pump": 1, "attended": 2, "platform": 3}


@dataclass(frozen=True)
class PriceUpdate:
    station_id: int
    grade: str
    tier: str
    price: Decimal
    effective_from: datetime
    source: str
    currency: str = "CNY"
    confirmed_at: datetime | None = None  # default: effective_from

    def quote(self) -> Quote:
        return Quote(self.grade, self.tier, self.price, self.currency, self.effective_from)


@dataclass(frozen=True)
class GuideUpdate:
    province_code: str
    zone_code: str
    grade: str
    price: Decimal
    effective_from: datetime
    source: str
    confirmed_at: datetime
    source_url: str | None = None
    currency: str = "CNY"


@dataclass(frozen=True)
class Outcome:
    status: str  # inserted | updated | confirmed | unchanged | rejected
    reason: str | None = None


@dataclass(frozen=True)
class Rung:
    tier: str
    price: Decimal
    currency: str
    source: str
    effective_from: datetime
    confirmed_at: datetime
    stale: bool
    zone_code: str | None = None


@dataclass(frozen=True)
class Ladder:
    station_id: int
    grade: str
    as_of: datetime
    rungs: tuple[Rung, ...]

    def get(self, tier: str) -> Rung | None:
        return next((r for r in self.rungs if r.tier == tier), None)

    @property
    def members(self) -> tuple[Rung, ...]:
        return tuple(r for r in self.rungs if r.tier.startswith("member:"))


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


Siblings = dict[tuple[int, str, str, str], list[tuple[datetime, Decimal]]]


def _overlay(siblings: Siblings, item: PriceUpdate, context: Context) -> Context:
    """Pump/platform prices accepted earlier in the same batch count like stored ones."""
    for tier in ("pump", "platform"):
        mine = [
            (at, price)
            for at, price in siblings.get((item.station_id, item.grade, item.currency, tier), [])
            if at <= item.effective_from
        ]
        if mine:
            latest = max(mine)[1]
            context = replace(context, pump=latest) if tier == "pump" else replace(context, platform=latest)
    return context


PRICE_WRITER_LOCK = 0x5072  # advisory lock class of station price writers ("Pr")


def write_prices(
    engine: Engine,
    updates: Sequence[PriceUpdate],
    *,
    now: datetime | None = None,
    rules: Rules = DEFAULT_RULES,
) -> list[Outcome]:
    """Validate and store station prices (one transaction); an outcome per update, in order."""
    now = _now(now)
    outcomes: list[Outcome] = [Outcome("rejected", "not processed")] * len(updates)
    with engine.begin() as conn:
        cur = conn.connection.cursor()
        try:
            # One writer per station at a time, from before its current prices are read: two concurrent
            # posts of one station's grade would otherwise both close the same window (an exclusion
            # violation, i.e. a 500, found by loadtests/bench_freshness.py). Sorted: no deadlock.
            for station_id in sorted({u.station_id for u in updates}):
                cur.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", (PRICE_WRITER_LOCK, station_id & 0x7FFFFFFF)
                )
            found = repository.contexts(cur, [(u.station_id, u.grade, u.effective_from) for u in updates])
            accepted: list[tuple[int, windows.Entry]] = []
            siblings: Siblings = {}
            for i, update in enumerate(updates):
                reason = check(update.quote(), _overlay(siblings, update, found[i]), now, rules)
                if reason is not None:
                    outcomes[i] = Outcome("rejected", reason)
                    continue
                entry = windows.Entry(
                    key=(update.station_id, update.grade, update.tier),
                    effective_from=update.effective_from,
                    price=price_per_litre(update.price, update.currency),
                    currency=update.currency,
                    confirmed_at=update.confirmed_at or update.effective_from,
                    source=update.source,
                )
                accepted.append((i, entry))
                key = (update.station_id, update.grade, update.currency, update.tier)
                siblings.setdefault(key, []).append((update.effective_from, update.price))
            written = windows.write(cur, windows.STATION_PRICES, [e for _, e in accepted])
            for (i, _), status in zip(accepted, written, strict=True):
                outcomes[i] = Outcome(status)
        finally:
            cur.close()
    return outcomes


def write_guides(engine: Engine, updates: Sequence[GuideUpdate]) -> list[str]:
    """Store guide prices (callers validate); the window outcome per update, in order."""
    entries = [
        windows.Entry(
            key=(u.province_code, u.zone_code, u.grade),
            effective_from=u.effective_from,
            price=price_per_litre(u.price, u.currency),
            currency=u.currency,
            confirmed_at=u.confirmed_at,
            source=u.source,
            extra=(u.source_url,),
        )
        for u in updates
    ]
    with engine.begin() as conn:
        cur = conn.connection.cursor()
        try:
            return windows.write(cur, windows.GUIDE_PRICES, entries)
        finally:
            cur.close()


def _rungs(rows: Sequence[repository.PriceRow], at: datetime, rules: Rules) -> tuple[Rung, ...]:
    return tuple(
        sorted(
            (
                Rung(
                    r.tier,
                    r.price,
                    r.currency,
                    r.source,
                    r.effective_from,
                    r.confirmed_at,
                    is_stale(r.confirmed_at, at, rules),
                    r.zone_code,
                )
                for r in rows
            ),
            key=lambda r: (ORDER.get(r.tier, 4), r.tier),
        )
    )


def ladder(
    engine: Engine, station_id: int, grade: str, as_of: datetime | None = None, rules: Rules = DEFAULT_RULES
) -> Ladder:
    """Every price of the station and grade in force at as_of (default now), guide first, stale flagged."""
    at = _now(as_of)
    with engine.connect() as conn:
        rows = repository.ladder_rows(conn, station_id, grade, at)
    return Ladder(station_id, grade, at, _rungs(rows, at, rules))


def ladders(
    conn: Connection,
    station_id: int,
    grades: Sequence[str] | None,
    as_of: datetime,
    rules: Rules = DEFAULT_RULES,
) -> list[Ladder]:
    """The ladder of each grade, read at once: of `grades` in that order (a grade with no price has no
    rungs), or (None) of every grade the station sells or has a price for, in grade order.
    StationNotFound for a station the catalogue does not hold."""
    sold = repository.station_grades(conn, station_id)
    if sold is None:
        raise StationNotFound(station_id)
    one = grades[0] if grades is not None and len(grades) == 1 else None
    by_grade: dict[str, list[repository.PriceRow]] = {}
    for row in repository.ladder_rows(conn, station_id, one, as_of):
        by_grade.setdefault(row.grade, []).append(row)
    wanted = list(grades) if grades is not None else sorted(set(sold) | set(by_grade), key=grade_order)
    return [Ladder(station_id, g, as_of, _rungs(by_grade.get(g, []), as_of, rules)) for g in wanted]


def cheapest(
    engine: Engine,
    grade: str,
    *,
    tier: str = "pump",
    limit: int = 10,
    include_stale: bool = False,
    as_of: datetime | None = None,
    rules: Rules = DEFAULT_RULES,
) -> list[repository.CurrentPrice]:
    at = _now(as_of)
    return repository.cheapest(
        engine, grade, at, at - rules.stale_after, tier=tier, limit=limit, include_stale=include_stale
    )


def regional_stats(
    engine: Engine,
    *,
    province: str | None = None,
    city: str | None = None,
    tier: str = "pump",
    include_stale: bool = False,
    as_of: datetime | None = None,
    rules: Rules = DEFAULT_RULES,
) -> list[repository.GradeStats]:
    at = _now(as_of)
    return repository.regional_stats(
        engine,
        at,
        at - rules.stale_after,
        province=province,
        city=city,
        tier=tier,
        include_stale=include_stale,
    )
