"""The order state machine and the domain errors of the order core (no HTTP here: routes map them)."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    CREATED = "created"
    PAID = "paid"
    FUELING = "fueling"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


TRANSITIONS: frozenset[tuple[State, State]] = frozenset(
    {
        (State.CREATED, State.PAID),
        (State.CREATED, State.CANCELLED),
        (State.PAID, State.FUELING),
        (State.PAID, State.REFUNDED),
        (State.FUELING, State.COMPLETED),
        (State.COMPLETED, State.REFUNDED),
    }
)
# States in which an order's verification code belongs to it (unique per station among these).
LIVE_STATES: frozenset[State] = frozenset({State.CREATED, State.PAID, State.FUELING})
EXPIRED_REASON = "expired"


class OrdercoreError(Exception):
    """Base of the order core's domain errors."""


class OrderNotFound(OrdercoreError):
    pass


class IdempotencyConflict(OrdercoreError):
    pass


class IllegalTransition(OrdercoreError):
    def __init__(self, state: State, target: State | str) -> None:
        super().__init__(f"order is {state.value}: cannot go to {target}")
        self.state = state


class OrderNotPaid(OrdercoreError):
    def __init__(self, state: State) -> None:
        super().__init__("order is not paid yet: the code is redeemable once the order is paid")
        self.state = state


class CodeAlreadyRedeemed(OrdercoreError):
    def __init__(self, state: State) -> None:
        super().__init__("this code was already redeemed")
        self.state = state


class OrderNotCompleted(OrdercoreError):
    def __init__(self, state: State) -> None:
        super().__init__(f"order is {state.value}: an invoice can be requested once it is completed")
        self.state = state


class AmountMismatch(OrdercoreError):
    pass


class AmountExceedsPayable(OrdercoreError):
    pass


class InvalidQr(OrdercoreError):
    pass


class InvalidOrder(OrdercoreError):
    """A create body that is well-formed but inconsistent (e.g. payable above list_amount)."""


def check_transition(current: State, target: State) -> None:
    if (current, target) not in TRANSITIONS:
        raise IllegalTransition(current, target.value)
