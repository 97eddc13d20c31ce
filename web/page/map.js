// The station map page: our tiles over our province outlines, everything from this service.
// Tiles and outlines in GCJ-02 (the tiles' default, what Amap, Tencent and WeChat draw in), so the page
// sees what the mini-program sees; every request below says coord=gcj02.
"use strict";

(function () {
  const COORD = "gcj02";
  const ROUTES = {
    // Presets in GCJ-02 along the G56 / G5611 roads (a few vertices each).
    "kunming-dali": [[102.712, 25.040], [102.480, 24.920], [102.080, 25.150], [101.540, 25.030],
      [101.270, 25.190], [100.560, 25.470], [100.230, 25.600]],
    "kunming-yuxi": [[102.712, 25.040], [102.750, 24.880], [102.600, 24.550], [102.543, 24.352]],
  };
  const GRADE_NAMES = { "89": "89号", "92": "92号", "95": "95号", "98": "98号", "0": "0号柴油", "-10": "-10号柴油",
    "-20": "-20号柴油", "-35": "-35号柴油", "lng": "LNG", "cng": "CNG" };

  if (typeof maplibregl.setWorkerUrl === "function") {
    maplibregl.setWorkerUrl("/map/maplibre/maplibre-gl-csp-worker.js");
  } else {
    maplibregl.workerUrl = "/map/maplibre/maplibre-gl-csp-worker.js";
  }

  const map = new maplibregl.Map({
    container: "map",
    hash: true, // #zoom/lat/lon: a view can be linked (the browser test opens one)
    center: [102.71, 25.04],
    zoom: 6,
    maxZoom: 18,
    attributionControl: false,
    style: {
      version: 8,
      sources: {
        provinces: { type: "geojson", data: "/v1/map/provinces?coord=" + COORD },
        stations: { type: "vector", url: "/v1/tiles.json?coord=" + COORD },
        route: { type: "geojson", data: { type: "FeatureCollection", features: [] } },
        corridor: { type: "geojson", data: { type: "FeatureCollection", features: [] } },
      },
      layers: [
        { id: "background", type: "background", paint: { "background-color": "#dfe9f2" } },
        { id: "province-fill", type: "fill", source: "provinces", paint: { "fill-color": "#f6f3ea" } },
        { id: "province-line", type: "line", source: "provinces",
          paint: { "line-color": "#9aa3b5", "line-width": 1 } },
        { id: "route-line", type: "line", source: "route",
          paint: { "line-color": "#2b6cd4", "line-width": 4, "line-opacity": 0.7 } },
        { id: "clusters", type: "circle", source: "stations", "source-layer": "clusters",
          paint: {
            "circle-color": "#e8743b",
            "circle-opacity": 0.75,
            "circle-radius": ["interpolate", ["linear"], ["sqrt", ["get", "count"]], 1, 6, 30, 26],
            "circle-stroke-color": "#fff",
            "circle-stroke-width": 1,
          } },
        { id: "stations", type: "circle", source: "stations", "source-layer": "stations",
          paint: {
            "circle-color": ["match", ["get", "brand"], "sinopec", "#e0301e", "petrochina", "#f2b600",
              "cnooc", "#0b62a4", "shell", "#fbce07", "#4a8f3c"],
            "circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 5, 16, 9],
            "circle-stroke-color": "#333",
            "circle-stroke-width": 1,
          } },
        { id: "corridor", type: "circle", source: "corridor",
          paint: { "circle-color": "#2b6cd4", "circle-radius": 5, "circle-stroke-color": "#fff",
            "circle-stroke-width": 1.5 } },
      ],
    },
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  window.stationMap = map; // for the browser test (map.project, queryRenderedFeatures)

  // data-tiles-loaded="1" once the station tiles of the current view are in (reset while loading).
  map.on("dataloading", () => { document.body.dataset.tilesLoaded = "0"; });
  map.on("idle", () => {
    document.body.dataset.tilesLoaded = map.isSourceLoaded("stations") && map.areTilesLoaded() ? "1" : "0";
  });

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function row(table, label, value, className) {
    const tr = el("tr");
    tr.appendChild(el("td", label));
    const td = el("td", value, className);
    tr.appendChild(td);
    table.appendChild(tr);
    return td;
  }

  async function getJson(url, options) {
    const response = await fetch(url, options);
    const body = await response.json();
    if (!response.ok) throw new Error((body && (body.detail || body.title)) || response.statusText);
    return body;
  }

  // One station's prices, effective price (an anonymous driver, the default ¥300 fill) and wait: the
  // viewport of a box a few metres around the point asked with those columns.
  async function stationAnswer(id, lon, lat) {
    const d = 0.0005;
    const bbox = [lon - d, lat - d, lon + d, lat + d].map((v) => v.toFixed(6)).join(",");
    const page = await getJson("/v1/stations?zoom=18&prices=true&effective=true&wait=true&coord=" + COORD +
      "&bbox=" + bbox);
    return page.items.find((item) => item.id === id) || null;
  }

  function popupContent(station) {
    const box = el("div", null, "station-popup");
    box.dataset.stationId = String(station.id);
    box.appendChild(el("h3", station.name));
    box.appendChild(el("div", station.brand_name + " · " + station.address, "muted"));
    const table = el("table");
    const grades = Object.keys(station.prices || {});
    if (grades.length === 0) row(table, "价格 Prices", "暂无 none", "muted");
    for (const grade of grades) {
      const p = station.prices[grade];
      const shown = p.platform || p.pump;
      const text = "¥" + shown + "/升" + (p.platform ? "（平台价，油站价 ¥" + p.pump + "）" : "") +
        (p.stale ? " 较旧" : "");
      const cell = row(table, GRADE_NAMES[grade] || grade, text, "price");
      cell.dataset.grade = grade;
      cell.dataset.price = shown;
      cell.dataset.pump = p.pump;
    }
    const eff = station.effective;
    const effCell = row(table, "到手价 Effective",
      eff ? "¥" + eff.effective_price_per_litre + "/升（实付 ¥" + eff.payable + "，" + eff.litres + " 升）"
        : "暂无 none", eff ? "effective" : "effective muted");
    if (eff) effCell.dataset.price = eff.effective_price_per_litre;
    const wait = station.wait_minutes;
    const waitCell = row(table, "排队 Wait",
      wait === null || wait === undefined ? "暂无数据 unknown"
        : "约 " + Math.round(wait) + " 分钟" + (station.wait_stale ? "（数据较旧）" : ""), "wait");
    waitCell.dataset.minutes = wait === null || wait === undefined ? "" : String(wait);
    box.appendChild(table);
    return box;
  }

  let popup = null;
  async function openStation(id, lngLat) {
    if (popup) popup.remove();
    popup = new maplibregl.Popup({ maxWidth: "340px" }).setLngLat(lngLat).setDOMContent(el("div", "加载中…"))
      .addTo(map);
    const shown = popup;
    try {
      const station = await stationAnswer(id, lngLat[0], lngLat[1]);
      if (shown !== popup) return;
      popup.setDOMContent(station ? popupContent(station) : el("div", "未找到该站 not found"));
    } catch (err) {
      if (shown === popup) popup.setDOMContent(el("div", "出错了 error: " + err.message));
    }
  }

  map.on("click", "stations", (event) => {
    const feature = event.features[0];
    openStation(Number(feature.properties.id), feature.geometry.coordinates.slice());
  });
  map.on("click", "corridor", (event) => {
    const feature = event.features[0];
    openStation(Number(feature.properties.id), feature.geometry.coordinates.slice());
  });
  map.on("click", "clusters", (event) => {
    const feature = event.features[0];
    map.easeTo({ center: feature.geometry.coordinates, zoom: Math.min(map.getZoom() + 2, 18) });
  });
  for (const layer of ["stations", "clusters", "corridor"]) {
    map.on("mouseenter", layer, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", layer, () => { map.getCanvas().style.cursor = ""; });
  }

  // Along a route: the corridor's stations (2 km either side) in order along it.
  const select = document.getElementById("route-select");
  const status = document.getElementById("route-status");
  const list = document.getElementById("route-list");
  select.addEventListener("change", async () => {
    list.replaceChildren();
    const coordinates = ROUTES[select.value];
    const empty = { type: "FeatureCollection", features: [] };
    if (!coordinates) {
      map.getSource("route").setData(empty);
      map.getSource("corridor").setData(empty);
      status.textContent = "";
      return;
    }
    map.getSource("route").setData({ type: "Feature", properties: {},
      geometry: { type: "LineString", coordinates } });
    const lons = coordinates.map((c) => c[0]);
    const lats = coordinates.map((c) => c[1]);
    map.fitBounds([[Math.min(...lons), Math.min(...lats)], [Math.max(...lons), Math.max(...lats)]],
      { padding: 40 });
    status.textContent = "查询中… searching";
    try {
      const page = await getJson("/v1/route/stations", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ route: { type: "LineString", coordinates }, coord: COORD, corridor_m: 2000,
          prices: true, limit: 50 }),
      });
      map.getSource("corridor").setData({ type: "FeatureCollection", features: page.items.map((s) => ({
        type: "Feature", properties: { id: s.id },
        geometry: { type: "Point", coordinates: [s.location.lon, s.location.lat] } })) });
      status.textContent = "全程 " + (page.route_length_m / 1000).toFixed(0) + " 公里，走廊内 " +
        page.stations_in_corridor + " 站" + (page.next_cursor ? "（显示前 " + page.count + " 站）" : "");
      status.dataset.count = String(page.count);
      for (const s of page.items) {
        const item = el("li", (s.along_m / 1000).toFixed(1) + " km · " + s.name +
          (s.effective ? " · ¥" + s.effective.effective_price_per_litre + "/升" : ""));
        item.dataset.stationId = String(s.id);
        item.addEventListener("click", () => openStation(s.id, [s.location.lon, s.location.lat]));
        list.appendChild(item);
      }
    } catch (err) {
      status.textContent = "出错了 error: " + err.message;
    }
  });
})();
