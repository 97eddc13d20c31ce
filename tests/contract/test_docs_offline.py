"""/docs (Swagger UI) and /redoc load everything from the service itself: no other host is named in the
pages, and every asset they name is served (from the installed fastapi-offline package)."""

from __future__ import annotations

import re

import pytest

from tests.support import LiveServer

ASSET = re.compile(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""")


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        (
            "/docs",
            {"/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css", "/docs/static/favicon.png"},
        ),
        ("/redoc", {"/docs/static/redoc.standalone.js", "/docs/static/favicon.png"}),
    ],
)
def test_docs_pages_use_only_their_own_assets(server: LiveServer, page: str, assets: set[str]) -> None:
    response = server.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    named = set(ASSET.findall(html))
    assert assets <= named, named
    assert all(url.startswith("/") and not url.startswith("//") for url in named), named
    for url in named - {"/openapi.json"}:
        served = server.get(url)
        assert served.status_code == 200, url
        assert len(served.content) > 1000, url
    assert "/openapi.json" in html


def test_assets_have_their_media_types(server: LiveServer) -> None:
    kinds = {
        "swagger-ui-bundle.js": "javascript",
        "redoc.standalone.js": "javascript",
        "swagger-ui.css": "text/css",
        "favicon.png": "image/png",
    }
    for name, kind in kinds.items():
        response = server.get(f"/docs/static/{name}")
        assert response.status_code == 200 and kind in response.headers["content-type"], name
    assert server.get("/docs/static/nothing.js").status_code == 404
