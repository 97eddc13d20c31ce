"""The OpenAPI document itself: stable operation ids, security per operation, typed bodies, one Problem
schema, no FastAPI 422, decimal strings, and an example on every operation."""

from __future__ import annotations

from typing import Any

import pytest

from api.app import create_app
from api.settings import Settings

# (method, path) -> operationId. A rename breaks generated clients: change this list deliberately.
OPERATION_IDS = {
    ("get", "/healthz"): "getHealth",
    ("get", "/readyz"): "getReadiness",
    ("get", "/v1/stations/nearby"): "nearbyStations",
    ("get", "/v1/stations"): "viewportStations",
    ("get", "/v1/tiles/{z}/{x}/{y}.mvt"): "stationTile",
    ("get", "/v1/tiles.json"): "stationTileJson",
    ("get", "/v1/map/provinces"): "mapProvinces",
    ("get", "/v1/stations/{station_id}"): "getStation",
    ("get", "/v1/stations/{station_id}/prices"): "stationPrices",
    ("put", "/v1/stations/{station_id}/prices"): "putStationPrices",
    ("get", "/v1/stations/{station_id}/occupancy"): "stationOccupancy",
    ("get", "/v1/stations/{station_id}/wait"): "stationWait",
    ("post", "/v1/prices/effective"): "effectivePrice",
    ("get", "/v1/prices/compare"): "comparePrices",
    ("get", "/v1/prices/stats"): "priceStats",
    ("post", "/v1/route/stations"): "routeStations",
    ("post", "/v1/quotes"): "createQuote",
    ("post", "/v1/quotes/verify"): "verifyQuote",
    ("post", "/v1/checkout"): "createCheckout",
    ("get", "/v1/checkout/{checkout_id}"): "getCheckout",
    ("get", "/v1/me/coupons"): "myCoupons",
    ("get", "/v1/me/points"): "myPoints",
    ("get", "/v1/me/level"): "myLevel",
    ("get", "/v1/me/orders"): "myOrders",
    ("get", "/v1/me/orders/{checkout_id}"): "myOrder",
    ("post", "/v1/me/orders/{checkout_id}/payment"): "payMyOrder",
    ("post", "/v1/me/orders/{checkout_id}/cancel"): "cancelMyOrder",
    ("post", "/v1/me/orders/{checkout_id}/invoice"): "requestMyInvoice",
    ("post", "/v1/ordercore/events"): "orderCoreEvent",
    ("post", "/v1/occupancy/events"): "postOccupancyEvents",
    ("get", "/v1/operator/coupon-templates"): "listCouponTemplates",
    ("post", "/v1/operator/coupon-templates"): "createCouponTemplate",
    ("get", "/v1/operator/coupon-templates/{template_id}"): "getCouponTemplate",
    ("put", "/v1/operator/coupon-templates/{template_id}"): "replaceCouponTemplate",
    ("get", "/v1/operator/drivers/{driver_id}"): "getDriver",
    ("put", "/v1/operator/drivers/{driver_id}"): "putDriver",
    ("post", "/v1/operator/drivers/{driver_id}/coupons"): "issueCoupons",
    ("put", "/v1/operator/member-levels/{level}"): "putMemberLevel",
    ("get", "/v1/operator/payment-promotions"): "listPaymentPromotions",
    ("post", "/v1/operator/payment-promotions"): "createPaymentPromotion",
    ("get", "/v1/operator/policy"): "getPolicy",
    ("put", "/v1/operator/policy"): "putPolicy",
    ("get", "/v1/partner/me"): "partnerMe",
    ("get", "/v1/partner/usage"): "partnerUsage",
    ("post", "/v1/stations/{station_id}/redeem"): "redeemOrderCode",
    ("post", "/v1/stations/{station_id}/orders/{checkout_id}/complete"): "completeStationOrder",
    ("post", "/v1/stations/{station_id}/orders/{checkout_id}/refund"): "refundStationOrder",
    ("get", "/v1/stations/{station_id}/wait/forecast"): "stationWaitForecast",
    ("get", "/v1/partner/snapshot"): "partnerSnapshot",
    ("get", "/v1/partner/changes"): "partnerChanges",
    ("put", "/v1/partner/stations/{station_id}/poi-id"): "putPartnerPoiId",
    ("delete", "/v1/partner/stations/{station_id}/poi-id"): "deletePartnerPoiId",
    ("get", "/v1/partner/stations/by-poi/{poi_id}"): "partnerStationByPoiId",
    ("post", "/v1/partner/webhooks"): "createPartnerWebhook",
    ("get", "/v1/partner/webhooks"): "listPartnerWebhooks",
    ("get", "/v1/partner/webhooks/{subscription_id}"): "getPartnerWebhook",
    ("delete", "/v1/partner/webhooks/{subscription_id}"): "deletePartnerWebhook",
    ("post", "/v1/partner/webhooks/{subscription_id}/replay"): "replayPartnerWebhook",
    ("get", "/v1/partner/waits"): "partnerWaits",
}
DRIVER_OPTIONAL: list[dict[str, list[str]]] = [{"driverToken": []}, {}]
SECURITY = {
    "putStationPrices": [{"stationCredential": []}],
    "postOccupancyEvents": [{"stationCredential": []}],
    "redeemOrderCode": [{"stationCredential": []}],
    "completeStationOrder": [{"stationCredential": []}],
    "refundStationOrder": [{"stationCredential": []}],
    "partnerMe": [{"partnerKey": []}],
    "partnerUsage": [{"partnerKey": []}],
    "effectivePrice": DRIVER_OPTIONAL,
    "createQuote": DRIVER_OPTIONAL,
    "verifyQuote": DRIVER_OPTIONAL,
    "getStation": DRIVER_OPTIONAL,  # this driver's member price in the detail
    "createCheckout": [{"driverToken": []}],
    "getCheckout": [{"driverToken": []}],
    **{op: [{"driverToken": []}] for (_, path), op in OPERATION_IDS.items() if path.startswith("/v1/me/")},
    "routeStations": DRIVER_OPTIONAL,
    "orderCoreEvent": [{"ordercoreSignature": []}],
    **{op: [{"operatorToken": []}] for (_, path), op in OPERATION_IDS.items() if "/operator/" in path},
    **{
        op: [{"partnerKey": []}] for (_, path), op in OPERATION_IDS.items() if path.startswith("/v1/partner/")
    },
}
LIST_OPERATIONS = {"nearbyStations", "comparePrices", "viewportStations"}  # parameters, security: issue 10
BINARY_SUCCESS = {"stationTile": "application/vnd.mapbox-vector-tile"}  # a tile: bytes, not a JSON object
NDJSON_SUCCESS = {"partnerSnapshot"}  # a stream of lines, each a typed object


@pytest.fixture(scope="module")
def spec(database_url: str) -> dict[str, Any]:
    document: dict[str, Any] = create_app(Settings.model_validate({"DATABASE_URL": database_url})).openapi()
    return document


def operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for ops in spec["paths"].values() for op in ops.values()}


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_operation_ids_are_pinned(spec: dict[str, Any]) -> None:
    found = {
        (method, path): op["operationId"] for path, ops in spec["paths"].items() for method, op in ops.items()
    }
    assert found == OPERATION_IDS


def test_each_kind_of_credential_has_its_own_scheme(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["operatorToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "the operator token (STATIONS_OPERATOR_TOKEN)",
    }
    assert schemes["stationCredential"]["scheme"] == "bearer"
    assert schemes["stationCredential"]["bearerFormat"] == "<key_id>.<secret>"
    assert schemes["partnerKey"]["scheme"] == "bearer"  # a partner's key: its own scheme
    assert schemes["partnerKey"]["bearerFormat"] == "<key_id>.<secret>"
    # The driver: a signed, expiring JWT from the mini-program gateway, never a bare id.
    assert schemes["driverToken"] | {"description": ""} == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "",
    }
    assert "driverId" not in schemes
    assert schemes["ordercoreSignature"]["in"] == "header"
    assert schemes["ordercoreSignature"]["name"] == "X-Ordercore-Signature"
    for op_id, op in operations(spec).items():
        if op_id not in LIST_OPERATIONS:
            assert op.get("security") == SECURITY.get(op_id), op_id


def test_validation_is_documented_as_a_400_problem_never_fastapis_422(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert {"instance", "errors", "coupons", "upstream"} <= set(problem["properties"])
    for op_id, op in operations(spec).items():
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            content = response["content"]
            assert list(content) == ["application/problem+json"], (op_id, status)
            schema = content["application/problem+json"]["schema"]
            assert schema["allOf"][0] == {"$ref": "#/components/schemas/Problem"}, (op_id, status)
            types = schema["allOf"][1]["properties"]["type"]["enum"]
            assert types and all(t.startswith("/problems/") for t in types), (op_id, status)
        if op_id in LIST_OPERATIONS:
            continue
        assert "/problems/invalid-parameter" in problem_types(op, "400"), op_id
        assert {"414", "431"} <= set(op["responses"]), op_id
        assert ("413" in op["responses"]) == ("requestBody" in op), op_id


def problem_types(op: dict[str, Any], status: str) -> list[str]:
    schema = op["responses"][status]["content"]["application/problem+json"]["schema"]
    types: list[str] = schema["allOf"][1]["properties"]["type"]["enum"]
    return types


def test_the_problem_types_each_route_answers_are_enumerated(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    assert problem_types(ops["getStation"], "404") == ["/problems/station-not-found"]
    assert problem_types(ops["verifyQuote"], "410") == ["/problems/quote-expired"]
    assert "/problems/checkout-in-progress" in problem_types(ops["createCheckout"], "409")
    assert ops["createCheckout"]["responses"]["503"]["headers"]["Retry-After"]["required"] is True
    assert problem_types(ops["getReadiness"], "503") == ["/problems/not-ready"]


def test_every_success_body_is_a_typed_object(spec: dict[str, Any]) -> None:
    for op_id, op in operations(spec).items():
        successes = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        assert successes, op_id
        if op_id in NDJSON_SUCCESS:
            (content,) = (r["content"] for r in successes.values())
            line = resolve(spec, content["application/x-ndjson"]["schema"])
            assert line.get("type") == "object" and line.get("properties"), op_id
            assert list(content) == ["application/x-ndjson"], op_id
            continue
        if op_id in BINARY_SUCCESS:
            (content,) = (r["content"] for r in successes.values())
            assert content[BINARY_SUCCESS[op_id]]["schema"] == {"type": "string", "format": "binary"}
            continue
        for status, response in successes.items():
            schema = resolve(spec, response["content"]["application/json"]["schema"])
            assert schema.get("type") == "object" and schema.get("properties"), (op_id, status)
            assert schema.get("additionalProperties") is not True, (op_id, status)


def test_decimal_strings_are_strings_with_a_pattern(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for model, field in [
        ("FillBody", "by_amount"),
        ("FillBody", "by_litres"),
        ("FillUp", "level"),
        ("StationPriceItem", "price"),
        ("AmountOffBody", "amount"),
        ("PolicyBody", "points"),
        ("EffectivePrice", "payable"),
        ("Rung", "price"),
        ("GradeStats", "avg"),
    ]:
        prop = schemas[model]["properties"][field]
        if "$ref" in prop or "anyOf" in prop:
            continue  # PolicyBody.points is an object: its max_share below
        assert prop["type"] == "string" and prop["pattern"].startswith("^"), (model, field)
    share = schemas["PointsBody"]["properties"]["max_share"]
    assert share["type"] == "string" and "number" not in str(share)
    assert "number" not in str(schemas["FillBody"]) and "number" not in str(schemas["AmountOffBody"])


def test_every_operation_has_an_example(spec: dict[str, Any]) -> None:
    for op_id, op in operations(spec).items():
        if "requestBody" in op:
            body = op["requestBody"]["content"]["application/json"]
            assert "example" in body or "examples" in body, op_id
        for status, response in op["responses"].items():
            if status == "304":  # Not Modified has no body
                assert "content" not in response, op_id
                continue
            for media, content in response["content"].items():
                assert "example" in content or "examples" in content, (op_id, status, media)
