"""Booking never imports the virtual room: every module of backend/booking is checked (not a
list that can fall behind), and the check itself is shown to catch such an import."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def room_imports(source: str) -> list[str]:
    """The modules of backend.clinics that a piece of source imports."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found += [n for n in names if n == "backend.clinics" or n.startswith("backend.clinics.")]
    return found


def test_no_booking_module_imports_the_room() -> None:
    modules = sorted((ROOT / "backend" / "booking").glob("*.py"))
    assert len(modules) >= 10
    offending = {m.name: room_imports(m.read_text("utf-8")) for m in modules}
    assert not {name: found for name, found in offending.items() if found}


def test_the_check_and_the_contracts_would_catch_it() -> None:
    assert room_imports("from backend.clinics import ws\n") == ["backend.clinics", "backend.clinics.ws"]
    assert room_imports("import backend.clinics.presence\n") == ["backend.clinics.presence"]
    assert room_imports("from backend.booking import service\n") == []
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    assert layers.index("(backend.clinics)") < layers.index("(backend.booking)")
    forbidden = [
        c for c in contracts if c["type"] == "forbidden" and c["source_modules"] == ["backend.booking"]
    ]
    assert forbidden
    assert forbidden[0]["forbidden_modules"] == ["backend.clinics"]
