"""The HTTP/1.1 protocol both services run under (uvicorn
`--http httpguard.protocol:BoundedHttpToolsProtocol`): uvicorn's httptools protocol with bounded request
heads and problem bodies for what never reaches the app.

Measured with uvicorn 0.54 / httptools 0.9 by themselves: header fields have no limit at all (a 20 MB
header is read into memory and served), a request target over 64 KiB fails httptools' URL parser, and
every refusal is a plain-text 400 "Invalid HTTP request received.". Here the request target is limited
to MAX_URL_BYTES (414) and the header fields to MAX_HEADERS fields and MAX_HEADER_BYTES (431), checked
while the head arrives, so no more than the limits (plus one read) is ever held; every refusal, the
parser's own 400s included, is an RFC 9457 problem body, and the connection is closed after it.
"""

from __future__ import annotations

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from httpguard.limits import MAX_HEADER_BYTES, MAX_HEADERS, MAX_URL_BYTES

# Bytes of a head beyond its target and fields: request line, ": " and CRLF per field, the blank line.
_HEAD_OVERHEAD = 64 + 4 * MAX_HEADERS


class _HeadRefused(Exception):
    def __init__(self, status: int, slug: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail


def _too_long(length: int) -> _HeadRefused:
    return _HeadRefused(
        414,
        "uri-too-long",
        "URI too long",
        f"the request target passed {MAX_URL_BYTES} bytes, the most accepted ({length} so far)",
    )


def _too_large(fields: int, size: int) -> _HeadRefused:
    return _HeadRefused(
        431,
        "headers-too-large",
        "Request header fields too large",
        f"{fields} header fields, {size} bytes so far; at most {MAX_HEADERS} fields and "
        f"{MAX_HEADER_BYTES} bytes are accepted",
    )


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    _refusal: _HeadRefused | None = None
    _in_head = False  # between the first byte of a request and the end of its header fields
    _began_in_chunk = False
    _head_bytes = 0
    _field_bytes = 0
    _fields = 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._began_in_chunk = True, True
        self._head_bytes = self._field_bytes = self._fields = 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_URL_BYTES:
            self._refusal = _too_long(len(self.url))
            raise self._refusal

    def on_header(self, name: bytes, value: bytes) -> None:
        self._fields += 1
        self._field_bytes += len(name) + len(value)
        if self._fields > MAX_HEADERS or self._field_bytes > MAX_HEADER_BYTES:
            self._refusal = _too_large(self._fields, self._field_bytes)
            raise self._refusal
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():  # refused already: nothing more is read
            return
        self._unset_keepalive_if_required()
        self._began_in_chunk = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError as exc:
            refusal = self._refusal or _HeadRefused(
                400,
                "invalid-http-request",
                "Invalid HTTP request",
                f"the request is not valid HTTP/1.1 ({exc})",
            )
            self.send_problem(refusal)
            return
        # A field still arriving is held inside httptools: count the bytes of a head that spans reads (the
        # read it began in is not counted, so at most one read more than the limit is ever held).
        if self._in_head and not self._began_in_chunk:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_URL_BYTES + MAX_HEADER_BYTES + _HEAD_OVERHEAD:
                self.send_problem(_too_large(self._fields, self._head_bytes))

    def send_400_response(self, msg: str) -> None:
        self.send_problem(_HeadRefused(400, "invalid-http-request", "Invalid HTTP request", msg))

    def send_problem(self, refusal: _HeadRefused) -> None:
        self.logger.warning("refused a request head: %s %s", refusal.status, refusal.detail)
        body = orjson.dumps(
            {
                "type": f"/problems/{refusal.slug}",
                "title": refusal.title,
                "status": refusal.status,
                "detail": refusal.detail,
            }
        )
        content = [STATUS_LINE[refusal.status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/problem+json\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()
