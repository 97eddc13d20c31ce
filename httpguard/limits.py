"""Bounded requests, checked before routing (an ASGI middleware, shared by the API and the order core).

- the request target (path + query) at most `max_url_bytes` (414), header fields at most `max_headers`
  and `max_header_bytes` in all (431): httpguard/protocol.py enforces the same limits while parsing, so
  what reaches an app served by it is already within them; these checks hold under any server;
- the body at most `max_body_bytes` (or its route's own limit in `body_limits`): a larger Content-Length
  is refused before reading, a streamed body as soon as it passes the limit (413);
- text that cannot be stored (httpguard/text.py): the path, the query, header values, and the strings
  of a JSON body; a JSON body nested deeper than `max_json_depth` (400, or the app's `invalid_status`).
  Routes that read their own body (`body_limits`) parse it themselves and are not pre-scanned.

Every refusal is a problem body (RFC 9457) made by the app's own `problem` function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from httpguard.text import NUL_MESSAGE, Finding, json_findings, json_too_deep, path_findings, query_findings

MAX_URL_BYTES = 8192
MAX_HEADER_BYTES = 32 * 1024
MAX_HEADERS = 100
MAX_JSON_DEPTH = 32
ProblemFactory = Callable[..., Response]  # (status, slug, title, detail, instance, accept_language=, **extra)


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int
    body_limits: Mapping[str, int] = field(default_factory=dict)  # path -> limit (routes reading raw bodies)
    invalid_status: int = 400
    invalid_slug: str = "invalid-parameter"
    invalid_title: str = "Invalid request parameters"
    max_json_depth: int = MAX_JSON_DEPTH
    max_url_bytes: int = MAX_URL_BYTES
    max_header_bytes: int = MAX_HEADER_BYTES
    max_headers: int = MAX_HEADERS


class _Refused(Exception):
    def __init__(self, status: int, slug: str, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.extra = extra


def _is_json(media: bytes) -> bool:
    kind = media.split(b";", 1)[0].strip().lower()
    return kind in (b"", b"application/json") or kind.endswith(b"+json")


class RequestLimits:
    def __init__(self, app: ASGIApp, limits: Limits, problem: ProblemFactory) -> None:
        self.app = app
        self.limits = limits
        self.problem = problem

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            has_body, declared, media = self._check_head(scope)
            if not has_body:
                await self.app(scope, receive, send)
                return
            limit = self.limits.body_limits.get(scope["path"], self.limits.max_body_bytes)
            if declared is not None and declared > limit:
                raise _Refused(
                    413,
                    "body-too-large",
                    "Request body too large",
                    f"the body has {declared} bytes; at most {limit} are accepted here",
                )
            body = await self._read(receive, limit)
            if body is None:  # the client went away
                return
            if scope["path"] not in self.limits.body_limits and _is_json(media):
                self._check_json(body)
        except _Refused as refused:
            await self._answer(scope, receive, send, refused)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _check_head(self, scope: Scope) -> tuple[bool, int | None, bytes]:
        """(whether a body follows, its declared length, its media type); _Refused for a bad head."""
        limits = self.limits
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        size, declared, streamed, media = 0, None, False, b""
        found: list[Finding] = []
        for name, value in headers:
            size += len(name) + len(value)
            if name == b"content-length" and value.isdigit():
                declared = int(value) if len(value) <= 18 else 10**18
            elif name == b"transfer-encoding":
                streamed = True
            elif name == b"content-type":
                media = value
            if b"\x00" in value:
                found.append({"in": "header", "name": name.decode("latin-1"), "message": NUL_MESSAGE})
        if len(headers) > limits.max_headers or size > limits.max_header_bytes:
            raise _Refused(
                431,
                "headers-too-large",
                "Request header fields too large",
                f"{len(headers)} header fields, {size} bytes; at most {limits.max_headers} fields "
                f"and {limits.max_header_bytes} bytes are accepted",
            )
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        query: bytes = scope["query_string"]
        if len(raw_path) + len(query) + 1 > limits.max_url_bytes:
            raise _Refused(
                414,
                "uri-too-long",
                "URI too long",
                f"the request target has {len(raw_path) + len(query) + 1} bytes; at most "
                f"{limits.max_url_bytes} are accepted",
            )
        found += path_findings(raw_path) + query_findings(query)
        if found:
            self._invalid(found)
        return streamed or (declared is not None and declared > 0), declared, media

    async def _read(self, receive: Receive, limit: int) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _Refused(
                    413,
                    "body-too-large",
                    "Request body too large",
                    f"the body passed {limit} bytes, the most accepted here",
                )
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _check_json(self, body: bytes) -> None:
        depth = self.limits.max_json_depth
        if json_too_deep(body, depth):
            self._invalid(
                [{"in": "body", "name": "", "message": f"JSON nested more than {depth} levels deep"}]
            )
        found = json_findings(body)
        if found:
            self._invalid(found)

    def _invalid(self, found: list[Finding]) -> None:
        names = ", ".join(f["name"] or f["in"] for f in found)
        raise _Refused(
            self.limits.invalid_status,
            self.limits.invalid_slug,
            self.limits.invalid_title,
            f"invalid value for: {names}",
            errors=found,
        )

    async def _answer(self, scope: Scope, receive: Receive, send: Send, refused: _Refused) -> None:
        language = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"accept-language"), "")
        response = self.problem(
            refused.status,
            refused.slug,
            refused.title,
            refused.detail,
            scope["path"][:256],
            accept_language=language,
            **refused.extra,
        )
        if refused.status in (413, 414, 431):  # the rest of the request is not read: end the connection
            response.headers["Connection"] = "close"
        await response(scope, receive, send)
