"""Deep links that open turn-by-turn navigation to a station in Amap, Tencent Maps and Baidu Maps (the
mini-program's 一键导航), each in the system its app reads: Amap and Tencent GCJ-02, Baidu BD-09
(`coord_type=bd09ll`). Each app gets a web link (its public URI API page, which hands over to the app
when installed) and its app scheme; the name is percent-encoded (UTF-8) in both.

The URL forms are those of the apps' public URI APIs:
- Amap: https://uri.amap.com/navigation?to=lon,lat,name&mode=car&coordinate=gaode&callnative=1&src=APP;
  amapuri://route/plan/?dlat=&dlon=&dname=&dev=0&t=0&sourceApplication=APP (dev=0: GCJ-02 given).
- Tencent: https://apis.map.qq.com/uri/v1/routeplan?type=drive&to=NAME&tocoord=lat,lon&referer=KEY;
  qqmap://map/routeplan?type=drive&to=NAME&tocoord=lat,lon&referer=KEY.
- Baidu: https://api.map.baidu.com/direction?destination=latlng:lat,lon|name:NAME&coord_type=bd09ll&
  mode=driving&output=html&src=APP; baidumap://map/direction?destination=...&coord_type=bd09ll&mode=driving&src=APP.
"""

from __future__ import annotations

from urllib.parse import quote


def _q(text: str) -> str:
    return quote(text, safe="")


def navigation_links(
    name: str, gcj02: tuple[float, float], bd09: tuple[float, float], app: str
) -> dict[str, dict[str, str]]:
    """{"amap"|"tencent"|"baidu": {"coord", "web", "app"}}; gcj02 and bd09 are (lon, lat) of the station."""
    glon, glat = f"{gcj02[0]:.6f}", f"{gcj02[1]:.6f}"
    blon, blat = f"{bd09[0]:.6f}", f"{bd09[1]:.6f}"
    n, a = _q(name), _q(app)
    baidu_to = f"latlng:{blat},{blon}|name:{name}"
    return {
        "amap": {
            "coord": "gcj02",
            "web": f"https://uri.amap.com/navigation?to={glon},{glat},{n}&mode=car&coordinate=gaode"
            f"&callnative=1&src={a}",
            "app": f"amapuri://route/plan/?dlat={glat}&dlon={glon}&dname={n}&dev=0&t=0&sourceApplication={a}",
        },
        "tencent": {
            "coord": "gcj02",
            "web": f"https://apis.map.qq.com/uri/v1/routeplan?type=drive&to={n}&tocoord={glat},{glon}"
            f"&referer={a}",
            "app": f"qqmap://map/routeplan?type=drive&to={n}&tocoord={glat},{glon}&referer={a}",
        },
        "baidu": {
            "coord": "bd09",
            "web": f"https://api.map.baidu.com/direction?destination={_q(baidu_to)}&coord_type=bd09ll"
            f"&mode=driving&output=html&src={a}",
            "app": f"baidumap://map/direction?destination={_q(baidu_to)}&coord_type=bd09ll&mode=driving"
            f"&src={a}",
        },
    }
