"""The order core and contracts/ordercore.openapi.yaml agree: same operations, valid schemas, same bodies."""

from __future__ import annotations

import jsonschema
import pytest

from ordercore.app import create_app
from ordercore.settings import OrdercoreSettings
from tests.ordercore_support import Contract, order_body


def test_the_contract_schemas_are_valid_json_schema(contract: Contract) -> None:
    assert contract.doc["openapi"].startswith("3.1")
    for schema in contract.doc["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    assert "orderStateChanged" in contract.doc["webhooks"]


def test_every_operation_is_implemented_and_documented(contract: Contract) -> None:
    settings = {"database_url": "postgresql://unused/db", "mode": "development", "sandbox_admin": True}
    app = create_app(OrdercoreSettings.model_validate(settings))
    # The operations FastAPI documents are the routes it serves.
    paths = app.openapi()["paths"]
    implemented = {(method.upper(), path) for path, item in paths.items() for method in item}
    assert implemented == contract.operations()


def test_request_bodies_the_contract_accepts_the_service_accepts(contract: Contract) -> None:
    contract.validate(order_body(), "CreateOrder")
    contract.validate(
        order_body(fill={"kind": "full", "value": None}, litres=None, coupons=[]), "CreateOrder"
    )
    invoice = {"title": "ACME", "tax_id": "91310000MA1K4ABC12", "email": "a@b.cn"}
    contract.validate(order_body(invoice=invoice), "CreateOrder")
    contract.validate({"station_id": 7, "code": "012345"}, "RedeemRequest")
    contract.validate(
        {"delay_ms": 100, "fail_status": 503, "fail_count": -1, "fail_after_commit": True}, "Faults"
    )


@pytest.mark.parametrize(
    "body",
    [
        order_body(payable=188.4),
        order_body(currency="USD"),
        order_body(station_id="7"),
        order_body(fill={"kind": "drip", "value": "1"}),
        order_body(extra=True),
    ],
)
def test_bodies_the_service_refuses_the_contract_refuses(contract: Contract, body: dict[str, object]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        contract.validate(body, "CreateOrder")
