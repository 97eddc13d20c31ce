"""A method a path does not take answers 405 with `Allow` naming exactly the methods the OpenAPI document
declares for that path, and a problem body."""

from __future__ import annotations

from tests.support import LiveServer

METHODS = {"get", "put", "post", "delete", "patch"}


def test_every_path_answers_405_with_its_documented_methods(server: LiveServer) -> None:
    spec = server.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        concrete = path.replace("{station_id}", "1").replace("{checkout_id}", "c1")
        concrete = (
            concrete.replace("{template_id}", "t1").replace("{driver_id}", "d1").replace("{level}", "gold")
        )
        declared = {m.upper() for m in operations}
        for method in sorted(METHODS - set(operations)):
            response = server.client.request(method.upper(), concrete)
            assert response.status_code == 405, (method, path, response.text)
            assert set(response.headers["allow"].split(", ")) == declared, (method, path)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"] == "/problems/method-not-allowed"
