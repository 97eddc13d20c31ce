"""A price ladder as answers show it: prices with their currency's places, times in the one RFC 3339 form
(api/instants.py); shared by the ladder route and the station detail."""

from __future__ import annotations

from typing import Any

from api.instants import instant_text
from pricing.ladder import Ladder, Rung
from pricing.money import price_text


def rung_json(rung: Rung) -> dict[str, Any]:
    return {
        "tier": rung.tier,
        "price": price_text(rung.price, rung.currency),
        "currency": rung.currency,
        "source": rung.source,
        "effective_from": instant_text(rung.effective_from),
        "confirmed_at": instant_text(rung.confirmed_at),
        "stale": rung.stale,
        "zone_code": rung.zone_code,
    }


def ladder_json(found: Ladder) -> dict[str, Any]:
    return {"grade": found.grade, "rungs": [rung_json(r) for r in found.rungs]}
