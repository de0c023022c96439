"""The import-linter contracts cover every router and WebSocket module: a forbidden import added
to a copy of the code is caught (and the unchanged copy passes, so the check can fail for no other
reason)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")
FORBIDDEN = "from backend.clinics import queries as _forbidden  # noqa: F401\n"


def _copy(tmp: Path) -> Path:
    for package in ("backend", "sensors"):
        shutil.copytree(ROOT / package, tmp / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp / "pyproject.toml")
    return tmp


def _lint(tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tmp)}
    return subprocess.run(  # noqa: S603 - our own tool on our own copy
        [str(LINT), "--no-cache"], cwd=tmp, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("module", ["backend/clinics/router.py", "backend/clinics/ws.py"])
def test_a_router_importing_queries_breaks_the_contract(tmp_path: Path, module: str) -> None:
    tmp = _copy(tmp_path)
    clean = _lint(tmp)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    target = tmp / module
    source = target.read_text()
    anchor = "from __future__ import annotations\n"
    assert anchor in source
    target.write_text(source.replace(anchor, anchor + FORBIDDEN, 1))
    broken = _lint(tmp)
    assert broken.returncode != 0, broken.stdout
    assert "routers never import queries BROKEN" in broken.stdout, broken.stdout
    dotted = module.removesuffix(".py").replace("/", ".")
    assert f"{dotted} -> backend.clinics.queries" in broken.stdout, broken.stdout
