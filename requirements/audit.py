"""Known vulnerabilities in the locked dependencies (pip-audit), for CI.

    python requirements/audit.py [--lock requirements/dev.lock] [--strict]

Audits the pins of a hash-pinned lock (the dev lock holds every runtime pin too) without
installing anything. Exit 1 when a locked version has a known vulnerability.

When no vulnerability service answers for a package (network down, the service's API
unreachable), each service (PyPI's JSON API, then OSV) is tried twice; then a WARNING names how
many packages could not be audited and why, and the exit is 0: a third-party outage must not
block every merge, and the next run audits again. ``--strict`` (or OHCONNECT_AUDIT_STRICT=1,
e.g. for a release build) makes that case fail instead. Never does a package that was not audited
count as clean.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("pypi", "osv")
ATTEMPTS = 2


@dataclass
class Outcome:
    audited: int = 0
    vulnerable: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # package -> why it was not audited
    error: str = ""  # pip-audit stopped before reporting (e.g. the service unreachable)


def run_audit(lock: Path, service: str) -> Outcome:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "audit.json"
        command = [
            sys.executable, "-m", "pip_audit", "--disable-pip", "--require-hashes", "-r", str(lock),
            "--vulnerability-service", service, "--progress-spinner", "off", "--timeout", "20",
            "--format", "json", "--output", str(report),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
        if not report.exists():
            lines = (done.stderr or done.stdout).strip().splitlines()
            return Outcome(error=lines[-1] if lines else f"pip-audit exited {done.returncode}")
        return parse(json.loads(report.read_text("utf-8")))


def parse(report: dict[str, object]) -> Outcome:
    outcome = Outcome()
    for dep in report.get("dependencies", []):  # type: ignore[attr-defined]
        name = f"{dep['name']}=={dep.get('version', '?')}"
        if "skip_reason" in dep:
            outcome.skipped[dep["name"]] = dep["skip_reason"]
            continue
        outcome.audited += 1
        for vuln in dep.get("vulns", []):
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            outcome.vulnerable.append(f"{name}: {vuln['id']} (fixed in {fixed})")
    return outcome


def audit(lock: Path, *, pause_s: float = 5.0) -> tuple[Outcome, list[str]]:
    """The first complete answer, else the best partial one and why each try fell short."""
    best: Outcome | None = None
    notes: list[str] = []
    for service in SERVICES:
        for attempt in range(1, ATTEMPTS + 1):
            outcome = run_audit(lock, service)
            if outcome.vulnerable or (not outcome.error and not outcome.skipped):
                return outcome, notes
            why = (
                outcome.error
                or f"{len(outcome.skipped)} packages skipped, e.g. {next(iter(outcome.skipped.values()))}"
            )
            notes.append(f"{service} (try {attempt}): {why}")
            if best is None or best.error or outcome.audited > best.audited:
                best = outcome
            if attempt < ATTEMPTS:
                time.sleep(pause_s)
    return best or Outcome(error="no attempt made"), notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="pip-audit the lock file")
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements" / "dev.lock")
    parser.add_argument("--strict", action="store_true", help="fail when packages could not be audited")
    args = parser.parse_args(argv)
    strict = args.strict or os.environ.get("OHCONNECT_AUDIT_STRICT") == "1"
    outcome, notes = audit(args.lock)
    for line in outcome.vulnerable:
        print(f"VULNERABLE {line}")
    if outcome.vulnerable:
        print(
            f"audit: {len(outcome.vulnerable)} known vulnerabilities in {args.lock.name}: upgrade and relock"
        )
        return 1
    if not outcome.error and not outcome.skipped:
        print(f"audit: {outcome.audited} locked packages, no known vulnerabilities")
        return 0
    missing = (
        f"{len(outcome.skipped)} of {outcome.audited + len(outcome.skipped)}" if not outcome.error else "all"
    )
    print(
        f"WARNING: audit incomplete: {missing} locked packages could NOT be audited "
        f"({outcome.audited} audited, none vulnerable). Tried:",
        file=sys.stderr,
    )
    for note in notes:
        print(f"WARNING:   {note}", file=sys.stderr)
    print(
        "WARNING: no vulnerability service answered for them; rerun when one does "
        "(OHCONNECT_AUDIT_STRICT=1 makes this an error)",
        file=sys.stderr,
    )
    return 1 if strict else 0


if __name__ == "__main__":
    sys.exit(main())
