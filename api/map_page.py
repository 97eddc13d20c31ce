"""The station map page: GET /map (HTML) and its files, all from this service. The page's own files are
web/page/ (committed); MapLibre GL is maplibre-gl's dist folder from npm (web/node_modules, bin/web.sh).

Every answer carries a Content-Security-Policy that lets the page load nothing from anywhere else: the
basemap is our province outlines (/v1/map/provinces), the stations our tiles. MapLibre's CSP build runs
its worker from a file we serve, so no `blob:` script is needed."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from api.settings import Settings

MAP_PATH = "/map"
ASSETS = "/map/assets"
MAPLIBRE = "/map/maplibre"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; worker-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)
PAGE_HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache"}


class PageFiles(StaticFiles):
    """Static files with the page's policy (a worker script gets its policy from its own answer)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(PAGE_HEADERS)
        return response


def install_map_page(app: FastAPI, settings: Settings) -> None:
    page_dir = settings.map_web_dir / "page"
    dist_dir = settings.map_web_dir / "node_modules" / "maplibre-gl" / "dist"
    app.mount(ASSETS, PageFiles(directory=page_dir, check_dir=False), name="map-assets")
    app.mount(MAPLIBRE, PageFiles(directory=dist_dir, check_dir=False), name="map-maplibre")

    async def map_page(request: Request) -> Response:
        return FileResponse(page_dir / "index.html", media_type="text/html", headers=PAGE_HEADERS)

    app.add_route(MAP_PATH, map_page, methods=["GET"], include_in_schema=False)
