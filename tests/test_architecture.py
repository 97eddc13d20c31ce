"""Only api/ knows HTTP: domain packages never import FastAPI or Starlette."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_PACKAGES = [
    "geo",
    "ingest",
    "demodata",
    "db",
    "pricing",
    "occupancy",
    "ordercore",
    "checkout",
    "timekeeping",
    "changelog",
    "upkeep",
    "partners",
]
# The HTTP edge of packages that also hold a service: only these modules may import the web stack.
HTTP_EDGE = {"ordercore/app.py", "ordercore/routes.py", "ordercore/problems.py", "ordercore/__main__.py"}
HTTP_MODULES = ("fastapi", "starlette", "uvicorn")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", DOMAIN_PACKAGES)
def test_domain_package_does_not_import_http(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in _imports(path) if m.split(".")[0] in HTTP_MODULES)
        for path in (ROOT / package).rglob("*.py")
        if str(path.relative_to(ROOT)) not in HTTP_EDGE
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_package_shadows_the_standard_library() -> None:
    import sys

    top = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert not top & set(sys.stdlib_module_names)
    assert not (ROOT / "alembic" / "__init__.py").exists()


def test_the_order_core_does_not_import_the_station_service() -> None:
    """The reference order core deploys on its own: it shares only neutral packages (httpguard, db, ...)."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in _imports(path) if m.split(".")[0] in ("api", "pricing", "geo")
        )
        for path in (ROOT / "ordercore").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_shipped_packages_hold_no_test_or_evaluation_code() -> None:
    """What pyproject ships never imports the tests or the load tests and evaluations (which stay out of the
    wheel: the brute-force pricing oracle lives in tests/, the wait scoring in loadtests/)."""
    import tomllib

    test_only = ("tests", "loadtests")

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = [p.rstrip("*") for p in config["tool"]["setuptools"]["packages"]["find"]["include"]]
    assert "loadtests" not in shipped and "tests" not in shipped
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in _imports(path) if m.split(".")[0] in test_only)
        for package in shipped
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert not (ROOT / "pricing" / "brute_force.py").exists()
