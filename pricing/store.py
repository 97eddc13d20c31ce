"""Promotions as stored (migration 0004), read into the engine's data classes, and the operator's writes.

Coupon instances: a stored 'reserved' whose hold ran out reads as available; an instance past its template's
valid_to (or its own expires_at) reads as expired. reserve / release / consume are the state transitions
checkout uses; reserve locks the driver row, so two reservations for one driver never interleave.
All SQL is parameterised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, RowMapping, text

from pricing.context import DriverContext
from pricing.money import Money
from pricing.offers import (
    CouponInstance,
    CouponState,
    CouponTemplate,
    PaymentPromotion,
    PointsRule,
    Promotions,
)
from pricing.offers import StackingPolicy as Policy
from pricing.rules import AmountOff, Conditions, Discount, PercentOff, PerLitreOff, Scope, money_amounts

RULE_COLUMNS = (
    "name, kind, currency, threshold, amount, percent, cap, per_litre, litre_cap, grades, stations, brands, "
    "cities, valid_from, valid_to, min_spend, first_order_only, per_user_limit"
)
_RULE_NAMES = [c.strip() for c in RULE_COLUMNS.split(",")]


class StoreError(Exception):
    """Base of the store's errors (mapped to problem details by the API)."""


class NotFound(StoreError):
    pass


class TemplateNotFound(NotFound):
    pass


class PaymentPromotionNotFound(NotFound):
    pass


class DriverNotFound(NotFound):
    pass


class AlreadyExists(StoreError):
    pass


class CouponsUnavailable(StoreError):
    """A reservation asked for an instance that is unknown, not the driver's, or not available.
    `coupons`: instance id -> why (its state, "unknown", or "per-user limit")."""

    def __init__(self, message: str, coupons: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.coupons = dict(coupons or {})


class ReservationNotFound(StoreError):
    pass


class ReservationExpired(StoreError):
    """The hold ran out before consume; reserve again under the same ref, then consume."""


# ---- rows <-> engine -------------------------------------------------------------------------------------
def _discount(r: RowMapping) -> Discount:
    cur = r["currency"]
    if r["kind"] == "amount_off":
        return AmountOff(Money(r["threshold"], cur), Money(r["amount"], cur))
    if r["kind"] == "percent_off":
        return PercentOff(r["percent"], None if r["cap"] is None else Money(r["cap"], cur))
    return PerLitreOff(r["per_litre"], r["litre_cap"])


def _conditions(r: RowMapping) -> Conditions:
    scope = Scope(*(frozenset(r[k]) for k in ("grades", "stations", "brands", "cities")))
    min_spend = None if r["min_spend"] is None else Money(r["min_spend"], r["currency"])
    return Conditions(
        scope, r["valid_from"], r["valid_to"], min_spend, r["first_order_only"], r["per_user_limit"]
    )


def template_from_row(r: RowMapping) -> CouponTemplate:
    return CouponTemplate(
        r["id"],
        _discount(r),
        _conditions(r),
        r["exclusive"],
        r["stacks_with_payment"],
        r["name"],
        r["currency"],
    )


def payment_from_row(r: RowMapping) -> PaymentPromotion:
    return PaymentPromotion(
        r["id"],
        r["channel"],
        _discount(r),
        _conditions(r),
        r["stacks_with_coupons"],
        r["name"],
        r["currency"],
    )


def currency_of(discount: Discount, conditions: Conditions, default: str = "CNY") -> str:
    """The currency a rule is declared in (its amounts must agree); per-litre and uncapped percentages
    without a minimum spend carry none: `default`."""
    found = {m.currency for m in money_amounts(discount, conditions)}
    if len(found) > 1:
        raise ValueError(f"amounts in several currencies: {sorted(found)}")
    return found.pop() if found else default


def _rule_params(name: str, discount: Discount, conditions: Conditions, currency: str) -> dict[str, Any]:
    scope = conditions.scope
    params: dict[str, Any] = dict.fromkeys(
        ("threshold", "amount", "percent", "cap", "per_litre", "litre_cap")
    )
    if isinstance(discount, AmountOff):
        params.update(kind="amount_off", threshold=discount.threshold.amount, amount=discount.amount.amount)
    elif isinstance(discount, PercentOff):
        params.update(kind="percent_off", percent=discount.percent, cap=discount.cap and discount.cap.amount)
    else:
        params.update(kind="per_litre_off", per_litre=discount.per_litre, litre_cap=discount.litre_cap)
    params.update(
        name=name,
        currency=currency_of(discount, conditions, currency),
        grades=sorted(scope.grades),
        stations=sorted(scope.stations),
        brands=sorted(scope.brands),
        cities=sorted(scope.cities),
        valid_from=conditions.valid_from,
        valid_to=conditions.valid_to,
        min_spend=conditions.min_spend and conditions.min_spend.amount,
        first_order_only=conditions.first_order_only,
        per_user_limit=conditions.per_user_limit,
    )
    return params


def _save(conn: Connection, table: str, extra: dict[str, Any], params: dict[str, Any], create: bool) -> None:
    row = {**params, **extra}
    names = [n for n in row if n != "id"]
    if create:
        sql = (
            f"INSERT INTO {table} (id, {', '.join(names)}) VALUES (:id, {', '.join(':' + n for n in names)}) "  # noqa: S608
            "ON CONFLICT (id) DO NOTHING RETURNING id"
        )
    else:
        sets = ", ".join(f"{n} = :{n}" for n in names)
        sql = f"UPDATE {table} SET {sets}, updated_at = now() WHERE id = :id RETURNING id"  # noqa: S608
    if conn.execute(text(sql), row).first() is None:
        if create:
            raise AlreadyExists(f"{table} {row['id']!r} exists")
        raise (TemplateNotFound if table == "coupon_templates" else PaymentPromotionNotFound)(
            f"{table} {row['id']!r} not found"
        )


# ---- operator writes -------------------------------------------------------------------------------------
def save_template(conn: Connection, template: CouponTemplate, *, create: bool, currency: str = "CNY") -> None:
    """Create (AlreadyExists when the id is taken) or replace (TemplateNotFound) a coupon template."""
    params = _rule_params(template.name, template.discount, template.conditions, currency)
    extra = {
        "id": template.id,
        "exclusive": template.exclusive,
        "stacks_with_payment": template.stacks_with_payment,
    }
    _save(conn, "coupon_templates", extra, params, create)


def save_payment_promotion(
    conn: Connection, promo: PaymentPromotion, *, create: bool, currency: str = "CNY"
) -> None:
    params = _rule_params(promo.name, promo.discount, promo.conditions, currency)
    extra = {"id": promo.id, "channel": promo.channel, "stacks_with_coupons": promo.stacks_with_coupons}
    _save(conn, "payment_promotions", extra, params, create)


def templates(conn: Connection, ids: Sequence[str] | None = None) -> list[tuple[CouponTemplate, str]]:
    """(template, currency) by id; all of them when ids is None."""
    rows = conn.execute(
        text(
            f"SELECT id, exclusive, stacks_with_payment, {RULE_COLUMNS} FROM coupon_templates "  # noqa: S608
            "WHERE CAST(:ids AS text[]) IS NULL OR id = ANY(:ids) ORDER BY id"
        ),
        {"ids": None if ids is None else list(ids)},
    ).mappings()
    return [(template_from_row(r), r["currency"]) for r in rows]


def put_driver(
    conn: Connection, driver_id: str, *, member_level: str | None, completed_orders: int, points_balance: int
) -> bool:
    """Create or replace a driver's level, order count and points; True when the driver is new."""
    return bool(
        conn.execute(
            text(
                "INSERT INTO drivers (id, member_level, completed_orders, points_balance) "
                "VALUES (:id, :l, :o, :p) "
                "ON CONFLICT (id) DO UPDATE SET member_level = :l, completed_orders = :o, "
                "points_balance = :p, updated_at = now() RETURNING (xmax = 0)"
            ),
            {"id": driver_id, "l": member_level, "o": completed_orders, "p": points_balance},
        ).scalar_one()
    )


def ensure_driver(conn: Connection, driver_id: str) -> None:
    """Record a driver seen for the first time (a new driver: no level, no orders, no points)."""
    conn.execute(text("INSERT INTO drivers (id) VALUES (:d) ON CONFLICT (id) DO NOTHING"), {"d": driver_id})


def issue_coupons(
    conn: Connection, driver_id: str, template_id: str, count: int, expires_at: datetime | None = None
) -> list[str]:
    """Give a driver `count` new available instances of a template; their ids. A driver id never seen
    before becomes a new driver (a welcome coupon for a driver who just signed in)."""
    if not templates(conn, [template_id]):
        raise TemplateNotFound(f"coupon template {template_id!r} not found")
    ensure_driver(conn, driver_id)
    rows = conn.execute(
        text(
            "INSERT INTO coupon_instances (template_id, driver_id, expires_at) "
            "SELECT :t, :d, :e FROM generate_series(1, :n) RETURNING id"
        ),
        {"t": template_id, "d": driver_id, "e": expires_at, "n": count},
    )
    return sorted((str(r[0]) for r in rows), key=int)


def set_member_level(conn: Connection, level: str, per_litre: Mapping[str | None, Decimal]) -> None:
    """Replace a level's per-litre discounts: grade -> discount, None = every other grade."""
    conn.execute(text("DELETE FROM member_levels WHERE level = :l"), {"l": level})
    for grade, discount in per_litre.items():
        conn.execute(
            text("INSERT INTO member_levels (level, grade, per_litre_discount) VALUES (:l, :g, :v)"),
            {"l": level, "g": grade, "v": discount},
        )


def set_member_level_name(conn: Connection, level: str, name: str | None, name_en: str | None) -> None:
    """Replace a level's display names (None: none, drivers then see the level's code)."""
    conn.execute(text("DELETE FROM member_level_names WHERE level = :l"), {"l": level})
    if name is not None:
        conn.execute(
            text("INSERT INTO member_level_names (level, name_zh, name_en) VALUES (:l, :zh, :en)"),
            {"l": level, "zh": name, "en": name_en},
        )


def member_level_view(conn: Connection, level: str) -> tuple[tuple[str, str | None] | None, list[Any]]:
    """A level's display names (Chinese, English; None when the operator gave none) and its per-litre
    discounts as (grade, per litre) rows, grade None = every other grade."""
    names = conn.execute(
        text("SELECT name_zh, name_en FROM member_level_names WHERE level = :l"), {"l": level}
    ).first()
    rows = conn.execute(
        text(
            "SELECT grade, per_litre_discount FROM member_levels WHERE level = :l ORDER BY grade NULLS LAST"
        ),
        {"l": level},
    ).all()
    return (None if names is None else (names[0], names[1])), [tuple(r) for r in rows]


def set_policy(conn: Connection, policy: Policy, points: PointsRule | None) -> None:
    """The stacking policy and points rule (None: points are not accepted)."""
    rule = points or PointsRule()
    conn.execute(
        text(
            "INSERT INTO promotion_policy VALUES (true, :mc, :mp, :cp, :sd, :md, :pe, :ppy, :share, now()) "
            "ON CONFLICT (singleton) DO UPDATE SET max_coupons = :mc, max_payment_promotions = :mp, "
            "coupons_with_payment = :cp, station_discount = :sd, member_discount = :md, "
            "points_enabled = :pe, points_per_yuan = :ppy, points_max_share = :share, updated_at = now()"
        ),
        {
            "mc": policy.max_coupons,
            "mp": policy.max_payment_promotions,
            "cp": policy.coupons_with_payment,
            "sd": policy.station_discount,
            "md": policy.member_discount,
            "pe": points is not None,
            "ppy": rule.points_per_yuan,
            "share": rule.max_share,
        },
    )


# ---- reads for the engine --------------------------------------------------------------------------------
def load_policy(conn: Connection) -> tuple[Policy, PointsRule | None]:
    """The operator's policy and points rule; the engine's defaults when none was declared."""
    r = conn.execute(text("SELECT * FROM promotion_policy")).mappings().first()
    if r is None:
        return Policy(), PointsRule()
    policy = Policy(
        r["max_coupons"],
        r["max_payment_promotions"],
        r["coupons_with_payment"],
        r["station_discount"],
        r["member_discount"],
    )
    return policy, PointsRule(r["points_per_yuan"], r["points_max_share"]) if r["points_enabled"] else None


def payment_promotions(conn: Connection, at: datetime | None = None) -> list[tuple[PaymentPromotion, str]]:
    """(promotion, currency): those whose window contains `at`, or all of them when at is None."""
    rows = conn.execute(
        text(
            f"SELECT id, channel, stacks_with_coupons, {RULE_COLUMNS} FROM payment_promotions "  # noqa: S608
            "WHERE CAST(:at AS timestamptz) IS NULL OR ((valid_from IS NULL OR valid_from <= :at) "
            "AND (valid_to IS NULL OR valid_to > :at)) ORDER BY id"
        ),
        {"at": at},
    ).mappings()
    return [(payment_from_row(r), r["currency"]) for r in rows]


def load_promotions(conn: Connection, at: datetime) -> Promotions:
    """Payment promotions whose window contains `at`, and the points rule."""
    return Promotions(tuple(p for p, _ in payment_promotions(conn, at)), load_policy(conn)[1])


def member_per_litre(conn: Connection, grade: str) -> dict[tuple[str, str], Decimal]:
    """PriceContext.member_per_litre for one grade: the grade's own row, else the level's all-grades row."""
    rows = conn.execute(
        text(
            "SELECT DISTINCT ON (level) level, per_litre_discount FROM member_levels "
            "WHERE grade = :g OR grade IS NULL ORDER BY level, grade NULLS LAST"
        ),
        {"g": grade},
    )
    return {(r[0], grade): r[1] for r in rows}


def effective_state(r: RowMapping, at: datetime, holding_ref: str | None = None) -> CouponState:
    state = CouponState(r["state"])
    if state in (CouponState.USED, CouponState.EXPIRED):
        return state
    ends = [t for t in (r["valid_to"], r["expires_at"]) if t is not None]
    if any(at >= t for t in ends):
        return CouponState.EXPIRED
    if state is CouponState.RESERVED and r["reserved_until"] > at and r["reservation_ref"] != holding_ref:
        return CouponState.RESERVED
    return CouponState.AVAILABLE


def _instances(conn: Connection, driver_id: str, *, lock: bool) -> list[RowMapping]:
    sql = (
        f"SELECT i.id AS instance_id, i.template_id, i.state, i.expires_at, i.reserved_until, "  # noqa: S608
        f"i.reservation_ref, t.id, t.exclusive, t.stacks_with_payment, "
        f"t.{RULE_COLUMNS.replace(', ', ', t.')} "
        "FROM coupon_instances i JOIN coupon_templates t ON t.id = i.template_id WHERE i.driver_id = :d "
        "ORDER BY i.id" + (" FOR UPDATE OF i" if lock else "")
    )
    return list(conn.execute(text(sql), {"d": driver_id}).mappings())


def load_driver_context(
    conn: Connection,
    driver_id: str,
    at: datetime,
    *,
    payment_channels: Iterable[str] = (),
    holding_ref: str | None = None,
    use_points: bool = True,
    known_only: bool = False,
) -> DriverContext:
    """The driver as the engine sees it at `at`. Used instances are left out (usage_counts counts them, and
    live reservations); instances held under `holding_ref` read as available (re-pricing at checkout).
    A driver never seen before is a new driver (first order, no level, coupons or points); DriverNotFound
    instead when `known_only` (the operator's view)."""
    d = conn.execute(text("SELECT * FROM drivers WHERE id = :d"), {"d": driver_id}).mappings().first()
    if d is None:
        if known_only:
            raise DriverNotFound(f"driver {driver_id!r} not found")
        return DriverContext(
            driver_id,
            is_first_order=True,
            payment_channels=frozenset(payment_channels),
            use_points=use_points,
        )
    coupons: list[CouponInstance] = []
    usage: dict[str, int] = {}
    for r in _instances(conn, driver_id, lock=False):
        state = effective_state(r, at, holding_ref)
        if r["state"] == "used" or state is CouponState.RESERVED:
            usage[r["template_id"]] = usage.get(r["template_id"], 0) + 1
        if state is not CouponState.USED:
            coupons.append(
                CouponInstance(str(r["instance_id"]), template_from_row(r), state, r["expires_at"])
            )
    return DriverContext(
        driver_id,
        d["member_level"],
        d["completed_orders"] == 0,
        tuple(coupons),
        usage,
        {},
        int(d["points_balance"]),
        frozenset(payment_channels),
        use_points,
    )


def held_coupons(conn: Connection, driver_id: str, at: datetime) -> list[CouponInstance]:
    """Every coupon the driver holds or held, used ones included, with its state at `at` (by id)."""
    return [
        CouponInstance(str(r["instance_id"]), template_from_row(r), effective_state(r, at), r["expires_at"])
        for r in _instances(conn, driver_id, lock=False)
    ]


# ---- coupon state transitions (checkout) ------------------------------------------------------------------
def reserve(
    conn: Connection, driver_id: str, instance_ids: Sequence[str], ref: str, hold_seconds: int, at: datetime
) -> datetime:
    """Hold all the given instances of the driver under `ref` until at + hold_seconds, or none of them
    (CouponsUnavailable). Instances already held under `ref` are held again (a retry extends the hold).
    Per-user limits count used instances and live reservations under other refs."""
    if conn.execute(text("SELECT 1 FROM drivers WHERE id = :d FOR UPDATE"), {"d": driver_id}).first() is None:
        raise DriverNotFound(f"driver {driver_id!r} not found")
    wanted = {int(i) for i in instance_ids if i.isdigit()}
    if len(wanted) != len(instance_ids) or hold_seconds <= 0:
        raise CouponsUnavailable(f"invalid instance ids {list(instance_ids)} or hold {hold_seconds}s")
    rows = _instances(conn, driver_id, lock=True)
    found = {r["instance_id"]: effective_state(r, at, ref) for r in rows if r["instance_id"] in wanted}
    bad = {
        str(i): found[i].value if i in found else "unknown"
        for i in sorted(wanted)
        if found.get(i) is not CouponState.AVAILABLE
    }
    if bad:
        raise CouponsUnavailable(f"coupons not available: {bad}", bad)
    for r in rows:
        limit = r["per_user_limit"]
        if limit is None or r["instance_id"] not in wanted:
            continue
        same = [o for o in rows if o["template_id"] == r["template_id"]]
        taken = sum(
            1
            for o in same
            if o["instance_id"] in wanted
            or o["state"] == "used"
            or effective_state(o, at, ref) is CouponState.RESERVED
        )
        if taken > limit:
            raise CouponsUnavailable(
                f"template {r['template_id']!r}: per-user limit {limit} reached",
                {str(r["instance_id"]): "per-user limit reached"},
            )
    until = at + timedelta(seconds=hold_seconds)
    conn.execute(
        text(
            "UPDATE coupon_instances SET state = 'reserved', reservation_ref = :ref, reserved_until = :until "
            "WHERE id = ANY(:ids)"
        ),
        {"ref": ref, "until": until, "ids": sorted(wanted)},
    )
    return until


def release(conn: Connection, ref: str) -> list[str]:
    """Give back what `ref` holds (idempotent); the ids released."""
    rows = conn.execute(
        text(
            "UPDATE coupon_instances SET state = 'available', reservation_ref = NULL, reserved_until = NULL "
            "WHERE reservation_ref = :ref AND state = 'reserved' RETURNING id"
        ),
        {"ref": ref},
    )
    return sorted((str(r[0]) for r in rows), key=int)


def release_expired(conn: Connection, at: datetime) -> list[str]:
    """Put every reservation whose hold ran out back to available (reads already treat it so; this makes
    the rows say it too); the ids released."""
    rows = conn.execute(
        text(
            "UPDATE coupon_instances SET state = 'available', reservation_ref = NULL, reserved_until = NULL "
            "WHERE state = 'reserved' AND reserved_until <= :at RETURNING id"
        ),
        {"at": at},
    )
    return sorted((str(r[0]) for r in rows), key=int)


def consume(conn: Connection, ref: str, at: datetime) -> list[str]:
    """Mark what `ref` holds as used. Idempotent once used; ReservationExpired when a hold ran out,
    ReservationNotFound when `ref` holds nothing."""
    rows = conn.execute(
        text(
            "SELECT id, state, reserved_until FROM coupon_instances WHERE reservation_ref = :ref "
            "ORDER BY id FOR UPDATE"
        ),
        {"ref": ref},
    ).all()
    if not rows:
        raise ReservationNotFound(f"no coupons held under {ref!r}")
    if any(r.state == "reserved" and r.reserved_until <= at for r in rows):
        raise ReservationExpired(f"the hold under {ref!r} ran out")
    conn.execute(
        text(
            "UPDATE coupon_instances SET state = 'used', used_at = :at WHERE reservation_ref = :ref "
            "AND state = 'reserved'"
        ),
        {"ref": ref, "at": at},
    )
    return [str(r.id) for r in rows]
