"""The driver's own account as they read it: points (balance, what open checkouts hold, what is free) and
member level (display name from the operator's data). A driver never seen before reads as new."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from checkout import repository as repo
from pricing import store
from pricing.texts import Language


def points(conn: Connection, driver_id: str, now: datetime) -> dict[str, int]:
    balance = conn.execute(
        text("SELECT points_balance FROM drivers WHERE id = :d"), {"d": driver_id}
    ).scalar()
    if balance is None:
        return {"balance": 0, "held": 0, "available": 0}
    held = repo.points_held(conn, driver_id, now)
    return {"balance": int(balance), "held": held, "available": max(int(balance) - held, 0)}


def level(conn: Connection, driver_id: str, language: Language) -> dict[str, Any]:
    row = (
        conn.execute(
            text("SELECT member_level, completed_orders FROM drivers WHERE id = :d"), {"d": driver_id}
        )
        .mappings()
        .first()
    )
    code = row["member_level"] if row is not None else None
    answer: dict[str, Any] = {
        "new_driver": row is None,
        "first_order": row is None or row["completed_orders"] == 0,
        "level": code,
        "name": None,
        "discounts": [],
    }
    if code is None:
        return answer
    names, discounts = store.member_level_view(conn, code)
    if names is not None:
        zh, en = names
        answer["name"] = en if language == "en" and en else zh
    else:
        answer["name"] = code  # the operator gave no display name
    answer["discounts"] = [{"grade": grade, "per_litre": _yuan(value)} for grade, value in discounts]
    return answer


def _yuan(value: Any) -> str:
    """Two places, or three for a per-litre amount that has them (0.125)."""
    return f"{value:.2f}" if value == round(value, 2) else f"{value:.3f}"
