"""The hash-pinned lock files are current with pyproject.toml, and CI and the image install from them."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_lock_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ohconnect_lock", ROOT / "requirements" / "lock.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def lock() -> ModuleType:
    return load_lock_script()


def test_both_locks_are_current_with_pyproject(lock: ModuleType) -> None:
    assert lock.check() == [], "regenerate with: python requirements/lock.py"


def test_every_pin_carries_hashes_and_the_header_says_how_to_regenerate(lock: ModuleType) -> None:
    for kind in ("runtime", "dev"):
        text = (ROOT / "requirements" / f"{kind}.lock").read_text("utf-8")
        assert text.startswith(f"# {kind}.lock:"), "the regeneration comment comes first"
        assert "#     python requirements/lock.py\n" in text
        pins = lock.pins(text)
        assert len(pins) >= 40
        entries = [e for e in re.split(r"\n(?=[A-Za-z0-9])", text) if "==" in e.split("\n")[0]]
        assert len(entries) == len(pins)
        assert all("--hash=sha256:" in entry for entry in entries)


def test_dependencies_other_work_is_adding_are_locked_already(lock: ModuleType) -> None:
    runtime = lock.pins((ROOT / "requirements" / "runtime.lock").read_text("utf-8"))
    for name in ("procrastinate", "psycopg", "psycopg-binary", "psycopg-pool", "pyhanko"):
        assert name in runtime, name
    dev = lock.pins((ROOT / "requirements" / "dev.lock").read_text("utf-8"))
    assert {"pytest", "mypy", "pip-audit", "playwright"} <= set(dev)
    assert "pytest" not in runtime, "dev tools stay out of the image"


def test_a_dependency_added_to_pyproject_makes_the_locks_stale(
    lock: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed = tmp_path / "pyproject.toml"
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    changed.write_text(
        text.replace("dependencies = [\n", 'dependencies = [\n    "left-pad-example>=1",\n', 1)
    )
    monkeypatch.setattr(lock, "PYPROJECT", changed)
    found = lock.check()
    print("\n".join(found))
    assert "dev.lock was made from other pyproject.toml dependencies" in found
    assert "runtime.lock does not pin left-pad-example" in found


def test_a_pin_outside_its_specifier_or_without_hash_is_reported(
    lock: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "requirements"
    folder.mkdir()
    for kind in ("runtime", "dev"):
        shutil.copy(ROOT / "requirements" / f"{kind}.lock", folder / f"{kind}.lock")
    dev = folder / "dev.lock"
    dev.write_text(re.sub(r"^fastapi==[^ ]+", "fastapi==0.100.0", dev.read_text("utf-8"), flags=re.M))
    monkeypatch.setattr(lock, "LOCKS", {"dev": dev, "runtime": folder / "runtime.lock"})
    assert "dev.lock pins fastapi==0.100.0, outside >=0.115" in lock.check()

    dev.write_text(dev.read_text("utf-8") + "leftover==1.0\n")
    assert lock.check() == ["dev.lock: leftover is pinned without a hash"]


def test_ci_and_the_image_install_from_the_locks() -> None:
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "pip install --quiet --require-hashes -r requirements/dev.lock" in ci
    assert re.search(r"pip install --quiet --no-deps .*\.$", ci, re.M)
    assert "python requirements/lock.py --check" in ci
    assert "requirements/audit.py" in ci
    assert "'.[dev]'" not in ci
    image = (ROOT / "deploy" / "Containerfile").read_text("utf-8")
    assert "--require-hashes -r requirements/runtime.lock" in image
