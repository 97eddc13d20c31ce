"""A TypeScript client generated from the live /openapi.json (openapi-typescript) type-checks a small
client program (tests/contract/ts/client.ts: nearby, detail, effective price, quote, checkout through
named fields) under `tsc --strict`, and the same program with a wrong field or a number for a decimal
string does not: the generated types say what the service answers, not `[key: string]: unknown`.

Node and the pinned packages (tests/contract/ts/package-lock.json) come from bin/node.sh; this test runs
`npm ci` itself when they are missing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import LiveServer

TS = Path(__file__).resolve().parent / "ts"
BIN = TS / "node_modules" / ".bin"


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def toolchain() -> Path:
    npm = shutil.which("npm")
    assert npm is not None and shutil.which("node"), "node/npm missing: bin/test installs them (bin/node.sh)"
    stamp = TS / "node_modules" / ".package-lock.json"
    if not stamp.exists() or stamp.stat().st_mtime < (TS / "package-lock.json").stat().st_mtime:
        done = run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], TS)
        assert done.returncode == 0, done.stdout + done.stderr
    return BIN


@pytest.fixture(scope="module")
def generated(server_session: LiveServer, toolchain: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """generated/api.d.ts from the live document, made once for the module."""
    root = tmp_path_factory.mktemp("generated")
    (root / "openapi.json").write_bytes(server_session.get("/openapi.json").content)
    done = run(
        # a field with a default may be left out of a request: not non-nullable (openapi-typescript's default)
        [str(toolchain / "openapi-typescript"), "openapi.json", "--default-non-nullable", "false"]
        + ["-o", "generated/api.d.ts"],
        root,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return root / "generated"


@pytest.fixture
def project(generated: Path, tmp_path: Path) -> Path:
    """tmp_path with the generated types, client.ts and tsconfig.json."""
    shutil.copytree(generated, tmp_path / "generated")
    for name in ("client.ts", "tsconfig.json"):
        shutil.copy(TS / name, tmp_path / name)
    return tmp_path


def typecheck(project: Path) -> subprocess.CompletedProcess[str]:
    return run([str(BIN / "tsc"), "--noEmit", "--strict", "-p", "tsconfig.json"], project)


def test_the_client_program_type_checks_against_the_generated_types(project: Path) -> None:
    generated = (project / "generated" / "api.d.ts").read_text()
    assert "distance_m: number" in generated and "verification_code: string" in generated
    done = typecheck(project)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("right", "wrong", "complaint"),
    [
        ("nearest.distance_m;", "nearest.distance_km;", "distance_km"),
        (
            'fill: { by_amount: "300.00" }',
            "fill: { by_amount: 300 }",
            "'number' is not assignable to type 'string'",
        ),
        ("price.payable;", "price.payable_amount;", "payable_amount"),
        ("quote_token: quote.token,", "quote_token: quote.tokn,", "tokn"),
    ],
)
def test_a_wrong_field_does_not_type_check(project: Path, right: str, wrong: str, complaint: str) -> None:
    source = (project / "client.ts").read_text()
    assert right in source
    (project / "client.ts").write_text(source.replace(right, wrong))
    done = typecheck(project)
    assert done.returncode != 0 and complaint in done.stdout, done.stdout + done.stderr
