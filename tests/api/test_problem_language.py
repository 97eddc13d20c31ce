"""Problem titles are Chinese first (English with Accept-Language: en), on every path a problem leaves
by: a domain error, refused parameters, FastAPI's validation, an unknown route, the request-limit
middleware; every problem type the contract names, and every one of the error table, has its Chinese
title."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from api.errors import DOMAIN_ERRORS
from api.problem_titles import ZH
from tests.support import LiveServer

CJK = re.compile(r"[\u4e00-\u9fff]")
NEAR = {"lat": 25.04, "lon": 102.71}


def test_every_problem_type_has_a_chinese_title(server: LiveServer) -> None:
    document = server.client.get("/openapi.json").text
    named = set(re.findall(r"/problems/([a-z0-9-]+)", document)) | {v[1] for v in DOMAIN_ERRORS.values()}
    assert len(named) > 60
    missing = sorted(s for s in named if s not in ZH)
    assert not missing, missing
    assert all(CJK.search(title) for title in ZH.values())


def _problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    return body


@pytest.mark.parametrize(
    ("method", "path", "params", "status", "slug"),
    [
        ("GET", "/v1/stations/99999999", {}, 404, "station-not-found"),  # a domain error
        ("GET", "/v1/stations/nearby", {**NEAR, "colour": "red"}, 400, "unknown-parameter"),  # the parser
        ("GET", "/v1/stations/nearby", {"lat": 91, "lon": 121}, 400, "invalid-parameter"),
        ("GET", "/v1/stations/0", {}, 400, "invalid-parameter"),  # FastAPI's validation
        ("GET", "/v1/no-such-route", {}, 404, "not-found"),  # Starlette's 404
        ("GET", "/v1/stations/nearby", {**NEAR, "q": "\x00"}, 400, "invalid-parameter"),  # httpguard
    ],
)
def test_titles_are_chinese_unless_english_is_asked(
    server: LiveServer, method: str, path: str, params: dict[str, Any], status: int, slug: str
) -> None:
    default = _problem(server.client.request(method, path, params=params), status, slug)
    chinese = _problem(
        server.client.request(method, path, params=params, headers={"Accept-Language": "zh-CN,zh;q=0.9"}),
        status,
        slug,
    )
    english = server.client.request(method, path, params=params, headers={"Accept-Language": "en-US,en"})
    english_body = _problem(english, status, slug)
    assert default["title"] == chinese["title"] == ZH[slug] and CJK.search(default["title"])
    assert not CJK.search(english_body["title"]) and english_body["title"]
    assert english.headers["content-language"] == "en"
    assert default["detail"] == english_body["detail"]  # the developer's detail is one text
