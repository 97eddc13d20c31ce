"""The station map page (/map) in headless Chromium (Debian's chromium + chromium-driver) against the live
test server: tiles load over the province basemap, a click on a station opens a popup whose price,
effective price and wait are what the API says, the route box lists the corridor's stations in the order
POST /v1/route/stations gives, and the page asks nothing of any host but the service.
A screenshot of each state goes to var/screenshots/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import Engine

from api.map_page import CSP
from geo import coords
from geo.records import StationRecord
from pricing.ladder import PriceUpdate, write_prices
from tests.support import LiveServer, insert_records

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
KUNMING = (102.712, 25.040)  # GCJ-02, the first vertex of the page's Kunming routes
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
WAIT_SECONDS = 60  # software WebGL on a shared 2-core machine


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",  # bin/test runs as root in CI
        "--disable-dev-shm-usage",
        "--use-angle=swiftshader",  # WebGL without a GPU
        "--enable-unsafe-swiftshader",
        "--window-size=1280,800",
        "--lang=zh-CN",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def stations(engine: Engine, server: LiveServer) -> list[int]:
    """24 stations on a ring of ~1 km around Kunming's centre, each with a 92 pump and platform price."""
    server.clock.set(NOW)
    wgs = coords.gcj02_to_wgs84(*KUNMING)
    records = [
        StationRecord(
            name=f"测试加油站{i}号",
            brand=("sinopec", "petrochina", "shell")[i % 3],
            lon=wgs[0] + 0.012 * ((i % 6) - 2.5),
            lat=wgs[1] + 0.010 * ((i // 6) - 1.5),
            address=f"昆明市测试路{i}号",
            grades=("92", "95"),
        )
        for i in range(24)
    ]
    ids = insert_records(engine, records)
    at = NOW - timedelta(minutes=5)
    updates = []
    for i, station_id in enumerate(ids):
        pump = Decimal("7.50") + Decimal(i) / 100
        updates += [
            PriceUpdate(station_id, "92", "pump", pump, at, "test"),
            PriceUpdate(station_id, "92", "platform", pump - Decimal("0.30"), at, "test"),
        ]
    assert all(o.status != "rejected" for o in write_prices(engine, updates, now=at))
    server.wait_for_catalogue()
    server.wait_for_changes()
    return ids


def wait_js(browser: WebDriver, script: str, what: str) -> Any:
    """Poll `return <script>` until it is truthy; its value."""
    return WebDriverWait(browser, WAIT_SECONDS, poll_frequency=0.2).until(
        lambda d: d.execute_script("return " + script), message=what
    )


def open_map(browser: WebDriver, server: LiveServer, zoom: float) -> None:
    browser.get("about:blank")  # a new page load even when only the #view differs
    browser.get(f"{server.base_url}/map#{zoom}/{KUNMING[1]}/{KUNMING[0]}")
    wait_js(browser, "document.body.dataset.tilesLoaded === '1'", "the station tiles to load")


def rendered(browser: WebDriver, layer: str) -> list[dict[str, Any]]:
    """The features drawn on `layer`, with their pixel position on the canvas (map.project)."""
    found: list[dict[str, Any]] = browser.execute_script(
        """
        const map = window.stationMap;
        return map.queryRenderedFeatures({layers: [arguments[0]]}).map((f) => {
          const p = map.project(f.geometry.coordinates);
          return {props: f.properties, lngLat: f.geometry.coordinates, x: p.x, y: p.y};
        });
        """,
        layer,
    )
    return found


def click_at(browser: WebDriver, x: float, y: float) -> None:
    """A click at canvas pixel (x, y): the map fills the window from its top-left corner."""
    actions = ActionBuilder(browser)
    actions.pointer_action.move_to_location(round(x), round(y)).click()  # type: ignore[no-untyped-call]
    actions.perform()


def browser_log(browser: WebDriver, kind: str) -> list[dict[str, Any]]:
    """Chrome's log of `kind` (performance, browser) since the last read."""
    entries: list[dict[str, Any]] = browser.get_log(kind)  # type: ignore[no-untyped-call]
    return entries


def requested_urls(browser: WebDriver) -> list[str]:
    urls = []
    for entry in browser_log(browser, "performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def shot(browser: WebDriver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOTS / name))


def test_click_on_a_station_shows_the_price_the_api_gives(
    browser: WebDriver, server: LiveServer, stations: list[int]
) -> None:
    open_map(browser, server, zoom=14)
    points = wait_js(
        browser,
        "window.stationMap.queryRenderedFeatures({layers: ['stations']}).length > 0",
        "station points on the map",
    )
    assert points
    drawn = rendered(browser, "stations")
    assert {int(f["props"]["id"]) for f in drawn} <= set(stations)
    width, height = browser.execute_script(
        "const c = window.stationMap.getCanvas(); return [c.clientWidth, c.clientHeight];"
    )
    target = min(drawn, key=lambda f: abs(f["x"] - width / 2) + abs(f["y"] - height / 2))
    click_at(browser, target["x"], target["y"])
    popup = WebDriverWait(browser, WAIT_SECONDS).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".station-popup[data-station-id]"), "the station popup"
    )[0]
    station_id = int(popup.get_attribute("data-station-id") or 0)
    assert station_id == int(target["props"]["id"])
    shot(browser, "map-popup.png")

    # What the API says of that station: its prices, and the viewport's columns for an anonymous driver.
    prices = server.get(f"/v1/stations/{station_id}/prices").json()
    lon, lat = target["lngLat"]
    box = f"{lon - 0.0005},{lat - 0.0005},{lon + 0.0005},{lat + 0.0005}"
    page = server.get(
        "/v1/stations", bbox=box, zoom=18, coord="gcj02", prices="true", effective="true", wait="true"
    ).json()
    item = next(i for i in page["items"] if i["id"] == station_id)
    platform = item["prices"]["92"]["platform"]
    index = stations.index(station_id)
    assert Decimal(platform) == Decimal("7.20") + Decimal(index) / 100  # what the test wrote
    assert json.dumps(prices).count(platform) >= 1  # /prices agrees
    cell = popup.find_element(By.CSS_SELECTOR, "td.price[data-grade='92']")
    assert cell.get_attribute("data-price") == platform
    assert f"¥{platform}/升" in cell.text and f"¥{item['prices']['92']['pump']}" in cell.text
    effective = popup.find_element(By.CSS_SELECTOR, "td.effective")
    assert item["effective"] is not None
    assert effective.get_attribute("data-price") == item["effective"]["effective_price_per_litre"]
    assert f"实付 ¥{item['effective']['payable']}" in effective.text
    wait = popup.find_element(By.CSS_SELECTOR, "td.wait")
    assert item["wait_minutes"] is None and wait.text.startswith("暂无数据")  # no forecourt feed here


def test_clusters_split_on_zoom_and_the_route_lists_its_corridor(
    browser: WebDriver, server: LiveServer, stations: list[int]
) -> None:
    open_map(browser, server, zoom=9)
    wait_js(
        browser,
        "window.stationMap.queryRenderedFeatures({layers: ['clusters']}).length > 0",
        "clusters at zoom 9",
    )
    clusters = rendered(browser, "clusters")
    assert sum(int(c["props"]["count"]) for c in clusters) == len(stations)
    assert rendered(browser, "stations") == []
    provinces = browser.execute_script(
        "return window.stationMap.querySourceFeatures('provinces').map((f) => f.properties.name_zh);"
    )
    assert "云南" in provinces
    shot(browser, "map-clusters.png")
    click_at(browser, clusters[0]["x"], clusters[0]["y"])  # a click on a cluster zooms in two levels
    wait_js(browser, "window.stationMap.getZoom() >= 10.9 && !window.stationMap.isMoving()", "the zoom in")

    browser.find_element(By.CSS_SELECTOR, "#route-select option[value='kunming-yuxi']").click()
    wait_js(browser, "document.querySelectorAll('#route-list li').length > 0", "the corridor's stations")
    listed = browser.execute_script(
        "return [...document.querySelectorAll('#route-list li')].map((li) => Number(li.dataset.stationId));"
    )
    route = browser.execute_script(
        "return window.stationMap.getSource('route').serialize().data.geometry.coordinates;"
    )
    answer = server.client.post(
        "/v1/route/stations",
        json={
            "route": {"type": "LineString", "coordinates": route},
            "coord": "gcj02",
            "corridor_m": 2000,
            "prices": True,
            "limit": 50,
        },
    )
    assert answer.status_code == 200, answer.text
    assert listed == [s["id"] for s in answer.json()["items"]] and listed
    wait_js(browser, "document.body.dataset.tilesLoaded === '1'", "tiles after fitting the route")
    shot(browser, "map-route.png")


def test_the_page_loads_nothing_from_elsewhere(browser: WebDriver, server: LiveServer) -> None:
    """The page's own requests (Chrome's performance log) all go to the service, and its policy refuses any
    other host. MapLibre's worker fetches tiles and outlines outside that log: its policy is the one its
    own answer carries, asserted here too."""
    browser_log(browser, "performance")  # drop what earlier tests logged
    open_map(browser, server, zoom=6)
    urls = requested_urls(browser)
    ours = urlsplit(server.base_url).netloc
    assert f"{server.base_url}/v1/tiles.json?coord=gcj02" in urls and f"{server.base_url}/map" in urls
    elsewhere = [u for u in urls if urlsplit(u).scheme != "data" and urlsplit(u).netloc != ours]
    assert elsewhere == []
    assert [e for e in browser_log(browser, "browser") if e["level"] == "SEVERE"] == []
    shot(browser, "map-china.png")

    for path in ("/map", "/map/maplibre/maplibre-gl-csp-worker.js", "/map/assets/map.js"):
        answer = server.client.get(path)
        assert answer.status_code == 200 and answer.headers["content-security-policy"] == CSP, path
    assert "default-src 'self'" in CSP and "worker-src 'self'" in CSP
    refused = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        document.addEventListener("securitypolicyviolation",
          (e) => done([e.blockedURI, e.effectiveDirective]), {once: true});
        fetch("http://192.0.2.1/probe").catch(() => {});
        """
    )
    assert refused == ["http://192.0.2.1/probe", "connect-src"]
