"""requirements/audit.py: a known vulnerability fails CI; an unreachable service warns, not a pass."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ohconnect_audit", ROOT / "requirements" / "audit.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_a_vulnerable_pin_is_reported_and_a_skipped_one_is_not_counted_clean(audit: ModuleType) -> None:
    # The shape of pip-audit's JSON report (one vulnerable, one clean, one the service did not know).
    outcome = audit.parse({
        "dependencies": [
            {"name": "jinja2", "version": "2.10", "vulns": [
                {"id": "PYSEC-2019-217", "fix_versions": ["2.10.1"], "aliases": ["CVE-2019-10906"]}]},
            {"name": "idna", "version": "3.10", "vulns": []},
            {"name": "private-pkg", "skip_reason": "Dependency not found on PyPI and could not be audited"},
        ]
    })  # fmt: skip
    assert outcome.vulnerable == ["jinja2==2.10: PYSEC-2019-217 (fixed in 2.10.1)"]
    assert outcome.audited == 2
    assert list(outcome.skipped) == ["private-pkg"]


def test_an_unreachable_service_is_retried_then_warns_and_strict_fails(
    audit: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every HTTPS request goes to a loopback port nobody listens on: the services are unreachable.
    closed = f"http://127.0.0.1:{free_port()}"
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, closed)
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("no_proxy", "")
    lock = tmp_path / "tiny.lock"
    lock.write_text(
        "idna==3.10 \\\n    --hash=sha256:946d195a0d259cbba61165e88e65941f16e9b36ea6ddb97f00452bae8b1287d3\n"
    )
    monkeypatch.setattr(audit.time, "sleep", lambda _s: None)
    outcome, notes = audit.audit(lock)
    print(notes)
    assert [n.split(":")[0] for n in notes] == ["pypi (try 1)", "pypi (try 2)", "osv (try 1)", "osv (try 2)"]
    assert outcome.audited == 0
    assert not outcome.vulnerable

    monkeypatch.setattr(audit, "audit", lambda _lock: (outcome, notes))
    assert audit.main(["--lock", str(lock)]) == 0
    assert "WARNING: audit incomplete" in capsys.readouterr().err
    assert audit.main(["--lock", str(lock), "--strict"]) == 1
