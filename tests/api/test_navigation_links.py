"""Navigation links (nav=true) on nearby and the viewport: each app's link parses and carries the station
in that app's own system (Amap and Tencent GCJ-02, Baidu BD-09), its name percent-encoded."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Engine, text

from geo import coords
from tests.api.test_nearby_features import KUNMING, station
from tests.support import LiveServer, insert_records

NAME = "中石化 昆明1号站 & 服务区,#?"


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, strict_parsing=True).items()}


def check_links(item: dict[str, Any], wgs: tuple[float, float], app: str) -> None:
    gcj = coords.from_wgs84(*wgs, coords.CoordSystem.GCJ02)
    bd = coords.from_wgs84(*wgs, coords.CoordSystem.BD09)
    nav = item["navigation"]
    assert nav["amap"]["coord"] == nav["tencent"]["coord"] == "gcj02" and nav["baidu"]["coord"] == "bd09"

    amap = _query(nav["amap"]["web"])
    assert urlsplit(nav["amap"]["web"]).netloc == "uri.amap.com" and amap["mode"] == "car"
    lon, lat, name = amap["to"].split(",", 2)
    assert (float(lon), float(lat)) == (round(gcj[0], 6), round(gcj[1], 6)) and name == NAME
    assert amap["coordinate"] == "gaode" and amap["src"] == app
    amap_app = _query(nav["amap"]["app"])
    assert nav["amap"]["app"].startswith("amapuri://route/plan/?") and amap_app["dname"] == NAME
    assert (float(amap_app["dlon"]), float(amap_app["dlat"])) == (round(gcj[0], 6), round(gcj[1], 6))
    assert amap_app["dev"] == "0"

    for link in (nav["tencent"]["web"], nav["tencent"]["app"]):
        q = _query(link)
        lat_t, lon_t = (float(v) for v in q["tocoord"].split(","))
        assert (lon_t, lat_t) == (round(gcj[0], 6), round(gcj[1], 6))
        assert q["to"] == NAME and q["type"] == "drive" and q["referer"] == app

    for link in (nav["baidu"]["web"], nav["baidu"]["app"]):
        q = _query(link)
        where, name = q["destination"].split("|", 1)
        lat_b, lon_b = (float(v) for v in where.removeprefix("latlng:").split(","))
        assert (lon_b, lat_b) == (round(bd[0], 6), round(bd[1], 6)) and name == f"name:{NAME}"
        assert q["coord_type"] == "bd09ll" and q["mode"] == "driving" and q["src"] == app
    assert urlsplit(nav["baidu"]["web"]).netloc == "api.map.baidu.com"


def test_nearby_and_viewport_carry_the_links(server: LiveServer, engine: Engine) -> None:
    (sid,) = insert_records(engine, [station(NAME, 150)])
    server.wait_for_catalogue()
    with engine.connect() as conn:
        wgs = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM stations WHERE id = :id"), {"id": sid}
        ).one()
    for system in coords.CoordSystem:
        lon, lat = coords.from_wgs84(*KUNMING, system)
        near = server.get("/v1/stations/nearby", lon=lon, lat=lat, coord=system.value, nav="true").json()
        (item,) = near["items"]
        check_links(item, (wgs[0], wgs[1]), "fuel-stations")
        box = f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"
        (seen,) = server.get("/v1/stations", bbox=box, coord=system.value, nav="true").json()["items"]
        assert seen["navigation"] == item["navigation"]  # the links never depend on the request's system
    plain = server.get("/v1/stations/nearby", lon=KUNMING[0], lat=KUNMING[1]).json()
    assert "navigation" not in plain["items"][0]
