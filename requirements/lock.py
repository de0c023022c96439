"""Hash-pinned lock files generated from pyproject.toml: ``runtime.lock`` and ``dev.lock``.

    python requirements/lock.py            regenerate both (with uv, a dev dependency; reaches PyPI)
    python requirements/lock.py --check    offline: both locks are current with pyproject.toml

Target: CPython 3.11 on x86_64 Linux with glibc 2.36 (Debian bookworm: CI and the container
image). The dev lock is resolved first and the runtime lock under it as a constraint, so a package
in both has one version. Each lock's header carries a digest of the pyproject.toml entries it was
made from; ``--check`` recomputes it and also checks that every dependency named in pyproject.toml
is pinned, to a version its specifier allows, with hashes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCKS = {"dev": ROOT / "requirements" / "dev.lock", "runtime": ROOT / "requirements" / "runtime.lock"}
PYTHON, PLATFORM = "3.11", "x86_64-manylinux_2_36"
COMMAND = "python requirements/lock.py"
DIGEST_LINE = "# pyproject-sha256: "
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def inputs(kind: str) -> dict[str, object]:
    """The pyproject.toml entries a lock is made from."""
    project = tomllib.loads(PYPROJECT.read_text("utf-8"))["project"]
    wanted: dict[str, object] = {"requires-python": project["requires-python"], "python": PYTHON}
    wanted["dependencies"] = project["dependencies"]
    # The image installs the tracing extra (used only when an OTLP endpoint is set); dev holds it too.
    wanted["tracing"] = project["optional-dependencies"]["tracing"]
    if kind == "dev":
        wanted["dev"] = project["optional-dependencies"]["dev"]
    return wanted


def digest(kind: str) -> str:
    return hashlib.sha256(json.dumps(inputs(kind), sort_keys=True).encode()).hexdigest()


def header(kind: str) -> str:
    extra = " and its tracing and dev extras" if kind == "dev" else " and its tracing extra"
    return (
        f"# {kind}.lock: every dependency of ohconnect{extra}, pinned with hashes, for CPython {PYTHON}\n"
        f"# on x86_64 Linux (glibc 2.36). Generated from pyproject.toml; do not edit by hand.\n"
        f"# Regenerate both locks after changing a dependency in pyproject.toml:\n"
        f"#     {COMMAND}\n"
        f"# Install: pip install --require-hashes -r requirements/{kind}.lock && pip install --no-deps .\n"
        f"{DIGEST_LINE}{digest(kind)}\n"
    )


def compile_lock(kind: str) -> None:
    command = [
        "uv", "pip", "compile", str(PYPROJECT), "--generate-hashes", "--no-header", "--quiet",
        "--python-version", PYTHON, "--python-platform", PLATFORM, "--annotation-style", "line",
    ]  # fmt: skip
    command += ["--extra", "tracing"]
    if kind == "dev":
        command += ["--extra", "dev"]
    else:
        command += ["--constraint", str(LOCKS["dev"])]
    body = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    LOCKS[kind].write_text(header(kind) + body, "utf-8")


def pins(text: str) -> dict[str, str]:
    """Normalised package name -> pinned version; each pin must carry at least one hash."""
    found: dict[str, str] = {}
    for entry in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = _PIN.match(entry)
        if match:
            if "--hash=sha256:" not in entry:
                raise ValueError(f"{match[1]} is pinned without a hash")
            found[normalise(match[1])] = match[3]
    return found


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def problems(kind: str) -> list[str]:
    from packaging.requirements import Requirement  # installed with the dev tools

    path = LOCKS[kind]
    if not path.exists():
        return [f"{path.name} is missing"]
    text = path.read_text("utf-8")
    found: list[str] = []
    if f"{DIGEST_LINE}{digest(kind)}\n" not in text:
        found.append(f"{path.name} was made from other pyproject.toml dependencies")
    try:
        pinned = pins(text)
    except ValueError as exc:
        return [*found, f"{path.name}: {exc}"]
    names = [str(r) for k, v in inputs(kind).items() if k in ("dependencies", "tracing", "dev") for r in v]  # type: ignore[attr-defined]
    for requirement in map(Requirement, names):
        version = pinned.get(normalise(requirement.name))
        if version is None:
            found.append(f"{path.name} does not pin {requirement.name}")
        elif not requirement.specifier.contains(version, prereleases=True):
            found.append(f"{path.name} pins {requirement.name}=={version}, outside {requirement.specifier}")
    return found


def check() -> list[str]:
    found = problems("dev") + problems("runtime")
    if not found:
        dev, runtime = pins(LOCKS["dev"].read_text("utf-8")), pins(LOCKS["runtime"].read_text("utf-8"))
        found += [
            f"runtime.lock pins {n}=={v}, dev.lock {dev.get(n)}"
            for n, v in runtime.items()
            if dev.get(n) != v
        ]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="check the locks are current (offline)")
    if parser.parse_args().check:
        found = check()
        for problem in found:
            sys.stderr.write(f"lock: {problem}\n")
        if found:
            sys.stderr.write(f"lock: regenerate with: {COMMAND}\n")
        return 1 if found else 0
    compile_lock("dev")
    compile_lock("runtime")
    return 0


if __name__ == "__main__":
    sys.exit(main())
