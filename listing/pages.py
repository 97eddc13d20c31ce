"""Pages of a ranked list (sort by price, what the driver pays, total cost or wait): a keyset cursor.

Every ranked order is (key, tie, station id) ascending: key the sort's own value (price in milli-yuan,
payable or total in fen, wait in minutes with unknown as +inf), tie the distance (chord or metres), and
the station id, so that the order is total and a page ends at one exact place. The cursor holds that
triple of the page's last item and the sort it belongs to: the next page is every item after it in the
same order, computed afresh: prices and waits may have moved meanwhile, and an item shows where it ranks
now (one that became dearer than the cursor comes again further on; one that became cheaper than the
cursor is not shown again).
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
from dataclasses import dataclass

import numpy as np

from geo.errors import InvalidSearch

_CURSOR = struct.Struct("<2s1sddq")
_TAG = b"r1"
# nearby's sorts (tie: chord) and compare's (tie: metres; price there is what the driver pays)
_SORTS = {
    "price": b"p",
    "effective": b"e",
    "wait": b"w",
    "compare:price": b"c",
    "compare:total": b"t",
    "compare:wait": b"v",
}


@dataclass(frozen=True)
class RankKey:
    key: float
    tie: float
    station_id: int


def encode_ranked(sort: str, last: RankKey) -> str:
    raw = _CURSOR.pack(_TAG, _SORTS[sort], last.key, last.tie, last.station_id)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_ranked(text: str, sort: str) -> RankKey:
    """The cursor of a page of `sort`; InvalidSearch for anything else (another sort's cursor included)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        tag, letter, key, tie, station_id = _CURSOR.unpack(raw)
    except (binascii.Error, struct.error, ValueError):
        raise InvalidSearch("cursor is not one this service issued") from None
    if tag != _TAG or math.isnan(key) or not math.isfinite(tie) or tie < 0 or station_id < 1:
        raise InvalidSearch("cursor is not one this service issued")
    if letter != _SORTS.get(sort):
        raise InvalidSearch(f"cursor belongs to a list of another sort than sort={sort}")
    return RankKey(float(key), float(tie), int(station_id))


def keyset_page(
    keys: np.ndarray, ties: np.ndarray, ids: np.ndarray, after: RankKey | None, limit: int
) -> tuple[np.ndarray, RankKey | None]:
    """Indexes of the page (in order) and the last item's RankKey when more items follow, else None."""
    keys = np.asarray(keys, dtype=np.float64)
    ties = np.asarray(ties, dtype=np.float64)
    ids = np.asarray(ids, dtype=np.int64)
    order = np.lexsort((ids, ties, keys))
    if after is not None:
        k, t, i = keys[order], ties[order], ids[order]
        later = (k > after.key) | (
            (k == after.key) & ((t > after.tie) | ((t == after.tie) & (i > after.station_id)))
        )
        order = order[later]
    page = order[:limit]
    if len(order) <= limit or not len(page):
        return page, None
    last = int(page[-1])
    return page, RankKey(float(keys[last]), float(ties[last]), int(ids[last]))
