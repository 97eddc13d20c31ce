"""Partners' own ids of stations (POI ids): one per partner and station, unique within a partner; a
station carries as many as partners gave it, and each partner only ever sees its own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from geo.coords import CoordSystem
from geo.errors import StationNotFound
from partners.errors import PoiIdNotFound, PoiIdTaken
from partners.stations import stations_of

_STATION = text("SELECT 1 FROM stations WHERE id = :id")
_OWNER = text("SELECT station_id FROM partner_poi_ids WHERE partner_id = :partner_id AND poi_id = :poi_id")
_UPSERT = text(
    """
    INSERT INTO partner_poi_ids (partner_id, station_id, poi_id) VALUES (:partner_id, :station_id, :poi_id)
    ON CONFLICT (partner_id, station_id) DO UPDATE SET poi_id = EXCLUDED.poi_id, updated_at = now()
    WHERE partner_poi_ids.poi_id IS DISTINCT FROM EXCLUDED.poi_id
    """
)
_DELETE = text("DELETE FROM partner_poi_ids WHERE partner_id = :partner_id AND station_id = :station_id")


def attach(conn: Connection, partner_id: int, station_id: int, poi_id: str) -> None:
    """Give the station this partner's id (replacing the partner's previous id of it; the same id again
    changes nothing). PoiIdTaken when the partner gave the id to another station."""
    if conn.execute(_STATION, {"id": station_id}).first() is None:
        raise StationNotFound(station_id)
    owner = conn.execute(_OWNER, {"partner_id": partner_id, "poi_id": poi_id}).scalar()
    if owner is not None and int(owner) != station_id:
        raise PoiIdTaken(f"POI id {poi_id!r} is already yours for station {owner}")
    try:
        with conn.begin_nested():
            conn.execute(_UPSERT, {"partner_id": partner_id, "station_id": station_id, "poi_id": poi_id})
    except IntegrityError:  # a concurrent attach of the same id to another station won
        raise PoiIdTaken(f"POI id {poi_id!r} is already yours for another station") from None


def detach(conn: Connection, partner_id: int, station_id: int) -> None:
    if conn.execute(_DELETE, {"partner_id": partner_id, "station_id": station_id}).rowcount == 0:
        raise PoiIdNotFound(f"you have no POI id on station {station_id}")


def station_by_poi(conn: Connection, partner_id: int, poi_id: str, coord: CoordSystem) -> dict[str, Any]:
    owner = conn.execute(_OWNER, {"partner_id": partner_id, "poi_id": poi_id}).scalar()
    if owner is None:
        raise PoiIdNotFound(f"you have no station under POI id {poi_id!r}")
    found = stations_of(conn, [int(owner)], partner_id, coord)
    return found[int(owner)]
