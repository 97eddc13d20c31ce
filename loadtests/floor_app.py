"""The floor: the production HTTP stack answering GET /v1/stations/nearby with fixed bytes.

Run it exactly as the service runs:
    uvicorn loadtests.floor_app:create_app --factory --workers 2 --loop uvloop --http httptools
The query string is not parsed: the floor is the cost of the stack alone, so it is the highest bar.
"""

from __future__ import annotations

from fastapi import FastAPI, Response

from loadtests.payload import nearby_answer_bytes


def create_app() -> FastAPI:
    body = nearby_answer_bytes()
    app = FastAPI(title="nearby floor", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/v1/stations/nearby")
    async def nearby_floor() -> Response:
        return Response(content=body, media_type="application/json")

    @app.get("/readyz")
    async def readyz() -> Response:
        return Response(content=b'{"status":"ok"}', media_type="application/json")

    return app
