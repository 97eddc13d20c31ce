"""Fixtures shared with the API tests: `town`, priced stations around Kunming."""

from tests.api.test_compare_http import town

__all__ = ["town"]
